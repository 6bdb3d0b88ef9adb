"""Writes READINGS of MEMBERS members (ledger-load's L000000…) for April 2026 as CSV and NDJSON:
finger-stick readings four times a day, values varying as meters report them."""
import json
import sys

members, per_member, csv_path, ndjson_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
contexts = ["fasting", "post_meal", "pre_meal", "bedtime"]
with open(csv_path, "w") as c, open(ndjson_path, "w") as n:
    c.write("member_id,time,glucose_mg_dl,context,source\n")
    for m in range(members):
        member = f"L{m:06d}"
        for r in range(per_member):
            day, slot = 1 + (r // 4) % 30, r % 4
            minute = (r // 120) % 60
            time = f"2026-04-{day:02d}T{7 + 4 * slot:02d}:{minute:02d}:00+08:00"
            value = 90 + (m * 7 + r * 13) % 120
            c.write(f"{member},{time},{value},{contexts[slot]},smbg\n")
            n.write(json.dumps({"member_id": member, "time": time, "glucose_mg_dl": value,
                                "context": contexts[slot], "source": "smbg"}, separators=(",", ":")) + "\n")
