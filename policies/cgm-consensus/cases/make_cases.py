#!/usr/bin/env python3
"""Writes the CGM traces the cases of cgm-consensus read (`readings_file = "…csv"`).

Run from anywhere: `python3 policies/cgm-consensus/cases/make_cases.py`. The output is
deterministic (no randomness), so re-running it rewrites the same bytes.

Every trace is a sensor reading every 15 minutes (some CGMs store 15-minute values, and it keeps
each file under 100 KB; the consensus metrics are the same at 5 minutes), in +08:00, with the
columns `time,glucose_mg_dl,source` like the shared simulator data. Each trace is built so that
the figure a case is about lands exactly where the case says: 70.0% TIR is 1008 of 1440
readings, 4.0% TBR is 58 of 1450, CV 36% is 80/170 mg/dL around a mean of 125 (sample SD 45
exactly), 14.0 days worn is 1344 intervals of 15 minutes, 70.0% active is 1400 of 2000
expected readings.
"""

import math
import os
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
TZ = timezone(timedelta(hours=8))
STEP = timedelta(minutes=15)
PER_DAY = 96  # 15-minute readings a day
Q3 = datetime(2026, 7, 1, tzinfo=TZ)


def write(name, rows):
    """rows: (datetime, value) pairs; value a number of mg/dL or "LO"/"HI"."""
    path = os.path.join(HERE, name)
    with open(path, "w", newline="\n") as f:
        f.write("time,glucose_mg_dl,source\n")
        for t, v in rows:
            f.write(f"{t.isoformat()},{v},cgm\n")
    size = os.path.getsize(path)
    assert size < 200_000, f"{name} is {size} bytes"
    print(f"{name}: {len(rows)} readings, {size} bytes")


def grid(n, start=Q3):
    """n reading times 15 minutes apart from `start`."""
    return [start + i * STEP for i in range(n)]


def daily_wave(i, mean=140, amplitude=45):
    """A smooth daily swing: 95–185 mg/dL with the defaults (a little above 180 after meals)."""
    return round(mean + amplitude * math.sin(2 * math.pi * i / PER_DAY))


def wave(n, start=Q3, **kw):
    return [(t, daily_wave(i, **kw)) for i, t in enumerate(grid(n, start))]


def mix(times, counts, values):
    """Spread the values evenly over `times`: values[k] takes counts[k] of the readings."""
    assert sum(counts) == len(times)
    n, used, rows = len(times), [0] * len(counts), []
    for i, t in enumerate(times):
        # The value furthest behind its share so far, so every day looks alike.
        k = max(range(len(counts)), key=lambda k: (counts[k] * (i + 1) / n - used[k], -k))
        used[k] += 1
        rows.append((t, values[k]))
    assert used == counts, used
    return rows


def main():
    # Gold: 15 days, a daily swing of 95–185 mg/dL.
    write("gold.csv", wave(15 * PER_DAY + 1))

    # CV exactly 36%: one reading of 125, then 80 and 170 by turns (mean 125, sample SD 45).
    times = grid(15 * PER_DAY + 1)
    write("cv-exactly-36.csv", [(t, 125 if i == 0 else (80 if i % 2 else 170)) for i, t in enumerate(times)])
    # CV 37.6%: the same with 78 and 172 (SD 47).
    write("cv-above-36.csv", [(t, 125 if i == 0 else (78 if i % 2 else 172)) for i, t in enumerate(times)])

    # TIR exactly 70%: 1008 of 1440 readings at 150 mg/dL, 432 at 200.
    write("tir-exactly-70.csv", mix(grid(1440), [1008, 432], [150, 200]))

    # TBR exactly 4%: 58 of 1450 readings at 65 mg/dL, the rest at 140.
    write("tbr-exactly-4.csv", mix(grid(1450), [1392, 58], [140, 65]))

    # Silver: 60% in range (150), 40% above (220).
    write("silver.csv", mix(grid(1500), [900, 600], [150, 220]))

    # Bronze: 40% in range (150), 60% above (230).
    write("bronze.csv", mix(grid(1500), [600, 900], [150, 230]))

    # Worn 13.98 days (1342 intervals) and exactly 14 days (1344 intervals).
    write("worn-13-98-days.csv", wave(1343))
    write("worn-14-days.csv", wave(1345))

    # Active exactly 70%: a span of 1999 intervals (2000 readings expected), 1400 present, six
    # gaps of 100 missing readings each. One more missing reading: 69.95%.
    def with_gaps(missing_per_gap):
        rows, i, slot = [], 0, 0
        gaps_at = {200 * (g + 1): m for g, m in enumerate(missing_per_gap)}
        while slot < 2000:
            rows.append((Q3 + slot * STEP, daily_wave(slot)))
            i += 1
            slot += 1 + gaps_at.get(i, 0)
        assert slot == 2000, slot
        return rows

    write("active-exactly-70.csv", with_gaps([100] * 6))
    write("active-69-95.csv", with_gaps([100] * 5 + [101]))

    # Worn from 21 June to 6 July: only the five July days fall in the third quarter.
    write("straddles-the-quarter.csv", wave(15 * PER_DAY + 1, start=datetime(2026, 6, 21, tzinfo=TZ)))

    # Level 2 hypoglycaemia: 2% of readings at 50 mg/dL (one every 50), the rest the gold swing.
    write("level-2-lows.csv", [(t, 50 if i % 50 == 25 else daily_wave(i)) for i, t in enumerate(grid(15 * PER_DAY + 1))])

    # Every reading "HI" for 15 days: enough data, and no number to measure CV on.
    write("every-reading-hi.csv", [(t, "HI") for t in grid(15 * PER_DAY + 1)])

    # A finger-stick meter four times a day for 30 days, sent as if it were a sensor.
    write(
        "finger-stick.csv",
        [(Q3 + timedelta(days=d, hours=h), 120) for d in range(30) for h in (6, 11, 17, 22)],
    )


if __name__ == "__main__":
    main()
