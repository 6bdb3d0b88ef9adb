#!/usr/bin/env python3
"""Writes the finger-stick readings the cases of vitality-status read (`readings_file`).

Run from anywhere: `python3 policies/vitality-status/cases/make_cases.py`; the output is
deterministic. Times are local to Pacific/Auckland (the plan's zone, with its daylight saving),
columns `time,glucose_mmol_l,context,source`. Each file is sized so its points land exactly where
the cases need them (see the comments below; points per policy.toml).
"""

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
ZONE = ZoneInfo("Pacific/Auckland")
START = datetime(2026, 2, 1, tzinfo=ZONE)


def write(name, rows):
    path = os.path.join(HERE, name)
    with open(path, "w", newline="\n") as f:
        f.write("time,glucose_mmol_l,context,source\n")
        for t, v, context in rows:
            f.write(f"{t.isoformat()},{v},{context},smbg\n")
    print(f"{name}: {len(rows)} readings, {os.path.getsize(path)} bytes")


def days(n, times):
    """One reading at each (hour, value, context) of `times` on n consecutive local days."""
    rows = []
    for d in range(n):
        day = (START + timedelta(days=d)).date()
        for hour, value, context in times:
            rows.append((datetime(day.year, day.month, day.day, hour, tzinfo=ZONE), value, context))
    return rows


FASTING = (7, 6.0, "fasting")
AFTER_DINNER = (19, 8.0, "post_meal")


def main():
    # 12 fasting readings in target on 12 days: 24 + 12 + 300 = 336 points.
    write("fasting-12-days.csv", days(12, [FASTING]))
    # Fasting and after dinner on 99 days: 198 + 198 + 300 = 696 points.
    write("twice-a-day-99-days.csv", days(99, [FASTING, AFTER_DINNER]))
    # Fasting and after dinner on 250 days: 500 → 400, 500 → 300, and 300 = 1000 points.
    write("twice-a-day-250-days.csv", days(250, [FASTING, AFTER_DINNER]))
    # 209 fasting readings, 188 in target (every tenth day from the sixth at 8.5): 89.952…%,
    # which one decimal would show as 90.0%, the step it does not reach.
    write(
        "fasting-188-of-209-in-target.csv",
        [
            (datetime(d.year, d.month, d.day, 7, tzinfo=ZONE), 8.5 if i % 10 == 5 else 6.0, "fasting")
            for i, d in ((i, (START + timedelta(days=i)).date()) for i in range(209))
        ],
    )


if __name__ == "__main__":
    main()
