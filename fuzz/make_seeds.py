#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/ (the rest are copies of the repository's own
files; see fuzz/README.md). Run from anywhere: python3 fuzz/make_seeds.py"""
import json
import pathlib

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"


def write(target, name, data):
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


# readings_csv: the header variants the reader knows.
write("readings_csv", "unit-column-lo-hi.csv",
      "\ufeffPatient_ID,Time,Glucose,Context,Source,Device\n"
      "P1,2026-03-01T07:00:00+08:00,5.6,fasting,smbg,x\n"
      "P1,2026-03-01T07:00:00+08:00,5.6,fasting,smbg,x\n"
      "P1,2026-03-01T09:00:00Z,LO,post_meal,cgm,y\n"
      "\"P2\",\"2026-03-02T22:00:00-05:00\",HI,bedtime,,z\n"
      "P2,2026-03-02,7.0,random,smbg\n")
write("readings_csv", "mg-dl-many-members.csv",
      "member_id,time,glucose_mg_dl\n"
      "M1,2026-03-01T07:00:00+08:00,101\n"
      "M2,2026-03-01T07:00:00.250+08:00,99.5\n"
      "M1,2026-03-01T07:05:00+08:00,600\n"
      "M3,2026-03-01T07:05:00+08:00,19\n")

# population_toml: every field, at its default.
write("population_toml", "every-field.toml", """\
[members]
age_bands = [
  { from_years = 18, to_years = 44, weight = 0.12 },
  { from_years = 45, to_years = 59, weight = 0.36 },
  { from_years = 60, to_years = 74, weight = 0.40 },
  { from_years = 75, to_years = 90, weight = 0.12 },
]
female_share = 0.48
regions = [{ name = "Guizhou-Suiyang", weight = 0.15 }, { name = "Guizhou-other", weight = 0.85 }]
type2_share = 0.93
type2_insulin_share = 0.22

[measuring]
regular_share = 0.735
regular_monthly_probability = 0.995
irregular_monthly_probability = 0.30
readings_per_measuring_month = 7.2
readings_rate_shape = 1.5
fasting_share = 0.45

[glycaemia]
fasting_median_mmol_l = 8.9
fasting_log_sd = 0.20
within_member_cv = 0.15
post_meal_rise_mmol_l = 0.7
yearly_drift_share = -0.185

[cgm]
wearing_share = 0.0
wear_share = 0.85
gap_hours_mean = 8.0
interval_minutes = 5
log_sd = 0.25
autocorrelation_1h = 0.30

[response]
measuring_uplift_share = 0.10
glucose_shift_share = -0.03
""")


# api_bodies: the first byte picks the route (see ROUTES in fuzz_targets/api_bodies.rs).
def api(index, name, body):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    write("api_bodies", f"{index:02}-{name}", bytes([index]) + (data.encode() if isinstance(data, str) else data))

tangdaifu = ROOT / "policies" / "tangdaifu-smbg"
package = {
    "policy.toml": (tangdaifu / "policy.toml").read_text(),
    "rules.rhai": (tangdaifu / "rules.rhai").read_text(),
    "cases/full-rebate.toml": (tangdaifu / "cases" / "full-rebate.toml").read_text(),
}
api(0, "payout.json", {"member_id": "M1", "policy_id": "tangdaifu-smbg", "period": "2026-03"})
api(1, "member.json", {"age": 61, "sex": "female", "diabetes_type": "type2", "insulin": False, "enrolled_on": "2025-11-02"})
api(2, "readings.json", {"readings": [
    {"time": "2026-03-01T07:00:00+08:00", "glucose_mmol_l": 5.6, "context": "fasting", "source": "smbg"},
    {"time": "2026-03-01T10:00:00+08:00", "glucose_mmol_l": 7.8, "context": "post_meal", "source": "smbg"},
    {"time": "2026-03-09T07:00:00+08:00", "glucose_mg_dl": "HI", "context": "after_dinner"},
    {"time": "2026-03-09T08:00:00+08:00", "glucose_mg_dl": "LO"},
]})
api(3, "labs.json", {"labs": [
    {"time": "2026-03-03T09:00:00+08:00", "hba1c_percent": 6.8},
    {"time": "2026-03-03T09:00:00+08:00", "hba1c_percent": "6.8"},
    {"time": "2026-03-04T09:00:00+08:00", "hba1c_percent": "high"},
]})
api(4, "upload.csv", "member_id,time,glucose_mmol_l,context\n"
    "M1,2026-03-01T07:00:00+08:00,5.6,fasting\n"
    "M1,2026-03-02T07:00:00+08:00,5.9,fasting\n"
    "M2,2026-03-01T07:00:00+08:00,abc,fasting\n"
    "GHOST,2026-03-01T07:00:00+08:00,6.1,fasting\n")
api(5, "upload.ndjson", "\n".join([
    '{"member_id":"M1","time":"2026-03-01T07:00:00+08:00","glucose_mmol_l":5.6,"context":"fasting","source":"smbg"}',
    '{"member_id":"M2","time":"2026-03-01T07:05:00+08:00","glucose_mg_dl":101}',
    "",
    '{"member_id":"M1","time":"2026-03-02T07:00:00+08:00"}',
    "not json",
]))
api(6, "evaluation.json", {"member_id": "M1", "policy_id": "tangdaifu-smbg", "period": "2026-03"})
api(7, "simulation.json", {"policy_id": "tangdaifu-smbg", "members": 4, "periods": 2, "replications": 2,
                           "seed": 2015, "first_period": "2026-03",
                           "population": "[cgm]\nwearing_share = 0.5\n"})
api(8, "check.json", {"files": package})
api(9, "test.json", {"files": package})
api(10, "create.json", {"files": package})
api(11, "reversal.json", {"reason": "shared meter"})
