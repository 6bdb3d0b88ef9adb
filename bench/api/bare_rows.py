"""Turns the upload CSV of readings.py into rows shaped as the `readings` table stores them
(tenant, member_id, time_ms, source, offset_s, mg_dl, flag, context, received_at): what the
issue's baseline imports into a bare table with the same key, without the product."""
import csv
import sys
from datetime import datetime

source, target = sys.argv[1], sys.argv[2]
with open(source) as i, open(target, "w", newline="") as o:
    w = csv.writer(o)
    for row in csv.DictReader(i):
        t = datetime.fromisoformat(row["time"])
        offset = int(t.utcoffset().total_seconds())
        w.writerow(["load", row["member_id"], int(t.timestamp() * 1000), row["source"], offset,
                    float(row["glucose_mg_dl"]), "", row["context"], "2026-05-01T00:00:00Z"])
