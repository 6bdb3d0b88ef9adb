#!/usr/bin/env python3
"""Writes the year of fasting readings the cases of annual-fasting-renewal read.

Run from anywhere: `python3 policies/annual-fasting-renewal/cases/make_cases.py`. The output is
deterministic, so re-running it rewrites the same bytes. Each month gets fasting readings at
07:00 Shanghai time on days 3, 10, 17 and 24: a controlled month has all four at 5.8 mmol/L, an
uncontrolled one two at 5.8 and two at 8.4 (50 % in target), and a thin month only three, all
in target.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))


def month(m, kind):
    days = [3, 10, 17, 24]
    if kind == "controlled":
        values = [5.8, 5.8, 5.8, 5.8]
    elif kind == "uncontrolled":
        values = [5.8, 8.4, 5.8, 8.4]
    elif kind == "thin":
        days, values = days[:3], [5.8, 5.8, 5.8]
    else:
        raise ValueError(kind)
    return [f"2026-{m:02d}-{d:02d}T07:00:00+08:00,{v},fasting" for d, v in zip(days, values)]


def write(name, kinds):
    assert len(kinds) == 12
    rows = ["time,glucose_mmol_l,context"]
    for m, kind in enumerate(kinds, start=1):
        rows += month(m, kind)
    with open(os.path.join(HERE, name), "w", newline="\n") as f:
        f.write("\n".join(rows) + "\n")
    print(f"{name}: {len(rows) - 1} readings")


C, U, T = "controlled", "uncontrolled", "thin"
write("nine-controlled.csv", [C] * 9 + [U] * 3)
write("eight-controlled.csv", [C] * 8 + [U] * 4)
write("six-controlled.csv", [C] * 6 + [U] * 6)
write("five-controlled.csv", [C] * 5 + [U] * 7)
write("nine-in-target-one-thin.csv", [C] * 8 + [T] + [U] * 3)
