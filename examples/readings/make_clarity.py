"""Makes dexcom-clarity-2-days.csv: two days of a sensor as Dexcom Clarity exports them.

The values are the first 576 of one simulated member's trace in cgm-uva-padova-14-days.csv
(UVA/Padova simulator via simglucose), timed every five minutes as a Dexcom G6 samples from
2026-03-01 00:00, written in Clarity's layout: its header, the rows about
the patient and the device first, one `EGV` row every five minutes with the device's local
time and no offset, `Low` and `High` where the value is below 40 or above 400 mg/dL, and an
insulin event — so a reader has every kind of row to keep or drop.

Deterministic: run `python3 make_clarity.py > dexcom-clarity-2-days.csv` to remake the same
file.
"""

import csv
import sys
from datetime import datetime, timedelta

HEADER = "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),Transmitter ID"

rows = []
with open("cgm-uva-padova-14-days.csv") as f:
    for r in csv.DictReader(f):
        if r["member_id"] != "M001":
            continue
        rows.append(float(r["glucose_mg_dl"]))
start = datetime(2026, 3, 1)
rows = [(start + timedelta(minutes=5 * i), v) for i, v in enumerate(rows[: 2 * 288])]

out = sys.stdout
out.write(HEADER + "\n")
out.write("1,,FirstName,,Example,,,,,,,,,\n2,,LastName,,Patient,,,,,,,,,\n3,,Device,,,Dexcom G6 Receiver,PG00000000,,,,,,,\n")
index = 4
for i, (t, v) in enumerate(rows):
    value = "Low" if v < 40 else "High" if v > 400 else str(round(v))
    out.write(f"{index},{t.isoformat()},EGV,,,,PG00000000,{value},,,,,{7573 + 300 * i},38J902\n")
    index += 1
    if i == 100:
        out.write(f"{index},{t.isoformat()},Insulin,Fast-Acting,,,PG00000000,,4,,,,,\n")
        index += 1
