#!/usr/bin/env python3
"""A bounded soak of `incentive serve`: steady payouts and reading uploads for a while, with
the server's memory, the latency percentiles and the errors printed minute by minute.

    bench/soak/run.py [MINUTES] [PAYOUTS_PER_S] [DB_URL]

Default: 10 minutes, 100 payouts a second, a fresh SQLite file. Needs the release binary
(`cargo build --release`). Each payout is a new member-month (keyed, as a platform sends it),
so every one decides and appends to the ledger; a second client uploads a batch of 500
readings (NDJSON, 50 members) every second. At the end: `incentive ledger verify`.
"""

import json, os, statistics, subprocess, sys, tempfile, threading, time, urllib.request, urllib.error
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target/release/incentive"
MINUTES = float(sys.argv[1]) if len(sys.argv) > 1 else 10
RATE = float(sys.argv[2]) if len(sys.argv) > 2 else 100
WORK = Path(tempfile.mkdtemp(prefix="soak-"))
DB = sys.argv[3] if len(sys.argv) > 3 else f"sqlite://{WORK}/soak.db"
MEMBERS = 20_000
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def call(base, method, path, key, body=None, headers=None, ctype="application/json"):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("authorization", f"Bearer {key}")
    req.add_header("content-type", ctype)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        e.read()
        return e.code


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reading_lines(members, month, day):
    return "\n".join(
        json.dumps({"member_id": m, "time": f"{month}-{day:02d}T{h:02d}:10:00+08:00",
                    "glucose_mmol_l": 6.2 + (i % 7) / 10, "context": "fasting", "source": "smbg"})
        for i, m in enumerate(members) for h in range(7, 17)
    ).encode()


def main():
    subprocess.run([BIN, "admin", "tenant", "create", "soak", "--db", DB], check=True, capture_output=True)
    key = lambda role: subprocess.run([BIN, "admin", "key", "create", "--tenant", "soak", "--role", role, "--db", DB],
                                      check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    admin, platform = key("admin"), key("platform")
    serve = subprocess.Popen([BIN, "serve", "--db", DB, "--addr", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = serve.stdout.readline().strip().removeprefix("listening on ")
    pkg = ROOT / "policies/tangdaifu-smbg"
    files = {f: (pkg / f).read_text() for f in ("policy.toml", "rules.rhai")}
    body = json.loads(urllib.request.urlopen(urllib.request.Request(
        base + "/v1/policies", data=json.dumps({"files": files}).encode(), method="POST",
        headers={"authorization": f"Bearer {admin}", "content-type": "application/json"})).read())
    call(base, "POST", f"/v1/policies/tangdaifu-smbg/versions/{body['version']}/publish", admin, {})
    members = [f"SK{i:06d}" for i in range(MEMBERS)]
    # Enrol through the API, over a few threads.
    def enrol(chunk):
        for m in chunk:
            call(base, "PUT", f"/v1/members/{m}", platform, {"diabetes_type": "type2"})
    ts = [threading.Thread(target=enrol, args=(members[i::8],)) for i in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]

    stop = time.monotonic() + MINUTES * 60
    lat, errors, uploads, lock = [], {}, [0], threading.Lock()
    jobs = iter((m, month) for month in MONTHS for m in members)

    def payer(rate):
        interval, nxt = 1.0 / rate, time.monotonic()
        while time.monotonic() < stop:
            with lock:
                m, month = next(jobs)
            t0 = time.monotonic()
            status = call(base, "POST", "/v1/payouts", platform,
                          {"member_id": m, "policy_id": "tangdaifu-smbg", "period": month},
                          {"idempotency-key": f"{m}/{month}"})
            with lock:
                lat.append(time.monotonic() - t0)
                if status >= 300:
                    errors[status] = errors.get(status, 0) + 1
            nxt += interval
            time.sleep(max(0.0, nxt - time.monotonic()))

    def uploader():
        k = 0
        while time.monotonic() < stop:
            chunk = members[(k * 50) % MEMBERS:(k * 50) % MEMBERS + 50]
            status = call(base, "POST", "/v1/readings", platform,
                          reading_lines(chunk, MONTHS[(k // 400) % 12], 1 + k % 28), ctype="application/x-ndjson")
            with lock:
                uploads[0] += 1
                if status >= 300:
                    errors[f"upload {status}"] = errors.get(f"upload {status}", 0) + 1
            k += 1
            time.sleep(1.0)

    threads = [threading.Thread(target=payer, args=(RATE / 8,)) for _ in range(8)] + [threading.Thread(target=uploader)]
    [t.start() for t in threads]
    print(f"soak: {MINUTES:g} min, {RATE:g} payouts/s + 500 readings/s, {DB.split(':')[0]}")
    print("| minute | payouts | p50 ms | p99 ms | errors | server RSS MiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    minute = 0
    while time.monotonic() < stop:
        time.sleep(min(60, max(0.0, stop - time.monotonic())))
        minute += 1
        with lock:
            window, lat[:] = lat[:], []
            errs = sum(errors.values())
        q = statistics.quantiles(window, n=100) if len(window) > 1 else [0] * 99
        print(f"| {minute} | {len(window)} | {q[49] * 1000:.1f} | {q[98] * 1000:.1f} | {errs} | {rss_mib(serve.pid):.0f} |", flush=True)
    [t.join() for t in threads]
    serve.terminate()
    serve.wait(timeout=60)
    verify = subprocess.run([BIN, "ledger", "verify", "--db", DB], capture_output=True, text=True)
    print(f"\nerrors: {errors or 'none'}; uploads: {uploads[0]}; ledger verify: "
          f"{'ok' if verify.returncode == 0 else 'FAILED'} ({verify.stdout.strip().splitlines()[-1] if verify.stdout else verify.stderr.strip()})")
    return 0 if verify.returncode == 0 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
