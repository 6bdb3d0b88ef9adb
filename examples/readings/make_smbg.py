"""Makes smbg-mmol.csv: finger-stick readings as a 糖大夫-style meter would send them.

Values are sampled from the simulated CGM traces in cgm-uva-padova-14-days.csv (UVA/Padova
simulator via simglucose) at the times a patient would prick a finger, converted to mmol/L
with one decimal as meters display them, and tagged with their meal context:

- S001 (from adult#003) measures diligently: fasting every morning, post-meal most days;
- S002 (from child#004) measures now and then, and once sees LO;
- S003 (adult#003 again, shifted up by 8 mmol/L) is poorly controlled, with one HI.

Deterministic: run `python3 make_smbg.py > smbg-mmol.csv` to remake the same file.
"""

import csv
import random
import sys

rng = random.Random(2015)
trace = {}
with open("cgm-uva-padova-14-days.csv") as f:
    for row in csv.DictReader(f):
        trace[(row["member_id"], row["time"][:16])] = float(row["glucose_mg_dl"])

schedule = [("07:00", "fasting"), ("11:30", "pre_meal"), ("14:00", "post_meal"), ("22:00", "bedtime")]
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["member_id", "time", "glucose_mmol_l", "context", "source"])
for member, source_patient, shift, diligence in [("S001", "M001", 0.0, 0.9), ("S002", "M002", 0.0, 0.3), ("S003", "M001", 8.0, 0.5)]:
    for day in range(1, 15):
        for clock, context in schedule:
            forced = (member, day, context) in {("S003", 9, "fasting"), ("S002", 4, "fasting")}
            if rng.random() > diligence and not forced:
                continue
            minute = int(clock[3:]) + rng.choice([0, 3, 6, 9])
            stamp = f"2026-03-{day:02d}T{clock[:2]}:{minute:02d}"
            mg = trace.get((source_patient, stamp))
            if mg is None:
                continue
            mmol = round(mg / 18.0 + shift, 1)
            value = "LO" if mmol < 1.1 else "HI" if mmol > 33.3 else f"{mmol:.1f}"
            if member == "S003" and day == 9 and context == "fasting":
                value = "HI"
            if member == "S002" and day == 4 and context == "fasting":
                value = "LO"
            out.writerow([member, f"{stamp}:00+08:00", value, context, "smbg"])
