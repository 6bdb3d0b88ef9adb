"""The pandas baseline for bench/metrics-vs-pandas.sh.

    python bench/pandas_metrics.py READINGS.csv > out.csv
    python bench/pandas_metrics.py READINGS.csv --compare incentive.json

Reads the whole CSV with pd.read_csv (every column, as a pandas user would), then per member:
mean, sample SD (ddof=1) and TIR = % of readings with 70 <= g <= 180 mg/dL. Timestamps are
kept as text, not parsed: pandas does less work than `incentive metrics`, which parses every
timestamp and computes some thirty metrics.

With --compare, also checks that `incentive metrics --format json` agrees on the three figures.
"""

import json
import sys

import pandas as pd


def metrics(path):
    df = pd.read_csv(path)
    g = df["glucose_mg_dl"]
    df["in_range"] = (g >= 70) & (g <= 180)
    by = df.groupby("member_id", sort=True)
    out = by["glucose_mg_dl"].agg(["count", "mean", "std"])
    out["tir_percent"] = by["in_range"].mean() * 100.0
    return out


def compare(out, incentive_json):
    with open(incentive_json) as f:
        rows = json.load(f)
    worst = 0.0
    for r in rows:
        p = out.loc[r["member_id"]]
        if int(p["count"]) != r["n_readings"]:
            sys.exit(f"{r['member_id']}: count {p['count']} != {r['n_readings']}")
        for ours, theirs in (("mean_mg_dl", "mean"), ("sd_mg_dl", "std"), ("tir_percent", "tir_percent")):
            a, b = r[ours], float(p[theirs])
            worst = max(worst, abs(a - b) / max(abs(b), 1.0))
    if len(rows) != len(out):
        sys.exit(f"members: incentive {len(rows)} != pandas {len(out)}")
    if worst > 1e-9:
        sys.exit(f"incentive and pandas disagree: worst relative difference {worst:.3g}")
    print(f"agree: {len(rows)} members, worst relative difference {worst:.3g}", file=sys.stderr)


def main():
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--compare"):
        sys.exit(__doc__)
    out = metrics(sys.argv[1])
    if len(sys.argv) == 4:
        compare(out, sys.argv[3])
    else:
        out.to_csv(sys.stdout)


if __name__ == "__main__":
    main()
