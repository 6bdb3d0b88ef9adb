#!/usr/bin/env python3
"""PostgreSQL restarted under a stream of payouts: a scripted scenario that prints its findings.

    bench/faults/postgres-restart.py [MEMBERS] [CLIENTS]

Needs a local PostgreSQL cluster this script may restart (`pg_ctlcluster VERSION main
restart`, as on Debian) and the release binary (`cargo build --release`). Not part of the test
suite: restarting the server would break the other tests running on it.

A fresh database gets a tenant, `tangdaifu-smbg` and MEMBERS members with a month of readings
(through the API, as a platform would); CLIENTS threads then pay every member with an
Idempotency-Key each, retrying a failed or unanswered request with the same key — as a
platform must — while the script restarts PostgreSQL twice. Findings: acknowledged payouts,
errors seen (and of which kinds), /readyz during the outage, and after it: payouts missing,
payouts doubled, whether `incentive ledger verify` passes.
"""

import json, os, subprocess, sys, threading, time, urllib.request, urllib.error
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target/release/incentive"
MEMBERS = int(sys.argv[1]) if len(sys.argv) > 1 else 400
CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 16
ADMIN_URL = os.environ.get("INCENTIVE_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def psql(sql):
    subprocess.run(["psql", ADMIN_URL, "-qtAc", sql], check=True, capture_output=True)


def call(base, method, path, key, body=None, headers=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("authorization", f"Bearer {key}")
    req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    def parse(raw):
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return {"text": raw.decode(errors="replace")}
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, parse(r.read())
    except urllib.error.HTTPError as e:
        return e.code, parse(e.read())


def restart_postgres():
    versions = os.listdir("/etc/postgresql")
    for v in versions:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", v, "main", "restart"], check=True)


def main():
    name = f"incentive_fault_{os.getpid()}"
    psql(f"CREATE DATABASE {name}")
    db = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        return scenario(db)
    finally:
        for _ in range(30):
            try:
                psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                break
            except subprocess.CalledProcessError:
                time.sleep(1)


def scenario(db):
    subprocess.run([BIN, "admin", "tenant", "create", "fault", "--db", db], check=True, capture_output=True)
    key = lambda role: subprocess.run(
        [BIN, "admin", "key", "create", "--tenant", "fault", "--role", role, "--db", db],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    admin, platform, auditor = key("admin"), key("platform"), key("auditor")
    serve = subprocess.Popen([BIN, "serve", "--db", db, "--addr", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = serve.stdout.readline().strip().removeprefix("listening on ")
    pkg = ROOT / "policies/tangdaifu-smbg"
    files = {f: (pkg / f).read_text() for f in ("policy.toml", "rules.rhai")}
    status, v = call(base, "POST", "/v1/policies", admin, {"files": files})
    call(base, "POST", f"/v1/policies/tangdaifu-smbg/versions/{v['version']}/publish", admin, {})
    members = [f"F{i:05d}" for i in range(MEMBERS)]
    readings = [{"time": f"2026-03-{d:02d}T07:10:00+08:00", "glucose_mmol_l": 6.0,
                 "context": "fasting", "source": "smbg"} for d in range(1, 21)]
    for m in members:
        call(base, "PUT", f"/v1/members/{m}", platform, {"diabetes_type": "type2"})
        call(base, "POST", f"/v1/members/{m}/readings", platform, {"readings": readings})

    acknowledged, errors, lock, ack_times, restarts = {}, {}, threading.Lock(), [], []

    def client(slice_):
        for m in slice_:
            while True:
                try:
                    status, body = call(base, "POST", "/v1/payouts", platform,
                                        {"member_id": m, "policy_id": "tangdaifu-smbg", "period": "2026-03"},
                                        {"idempotency-key": f"pay-{m}"}, timeout=10)
                except Exception as e:  # no answer: retry with the same key
                    status, body = None, {"error": {"code": type(e).__name__}}
                if status is not None and status < 300:
                    with lock:
                        first = acknowledged.setdefault(m, body["decision"]["id"])
                        ack_times.append(time.monotonic())
                        if first != body["decision"]["id"]:
                            errors["answered differently on retry"] = errors.get("answered differently on retry", 0) + 1
                    break
                code = f"{status} {body.get('error', {}).get('code') if isinstance(body, dict) else ''}"
                with lock:
                    errors[code] = errors.get(code, 0) + 1
                time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(members[i::CLIENTS],)) for i in range(CLIENTS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    ready_during = []
    started_at = lambda: subprocess.run(["psql", ADMIN_URL, "-qtAc", "SELECT pg_postmaster_start_time()"],
                                        capture_output=True, text=True).stdout.strip()
    before = started_at()
    for _ in range(2):
        time.sleep(0.5)
        t0 = time.monotonic()
        restart_postgres()
        restarts.append((t0, time.monotonic()))
        try:
            ready_during.append(call(base, "GET", "/readyz", platform, timeout=5)[0])
        except Exception as e:
            ready_during.append(type(e).__name__)
    for t in threads:
        t.join()
    took = time.monotonic() - start
    ready_after = call(base, "GET", "/readyz", platform)[0]
    serve.terminate()
    serve.wait(timeout=30)

    verify = subprocess.run([BIN, "ledger", "verify", "--db", db, "--format", "json"], capture_output=True, text=True)
    report = json.loads(verify.stdout)
    decisions = report["tenants"][0]["decisions"]
    print(f"members {MEMBERS}, clients {CLIENTS}, {took:.1f} s; PostgreSQL started at {before}, then at {started_at()}")
    for i, (a, b) in enumerate(restarts):
        print(f"restart {i + 1}: {b - a:.1f} s; payouts acknowledged before it {sum(t < a for t in ack_times)}, "
              f"during it {sum(a <= t < b for t in ack_times)}, after it {sum(t >= b for t in ack_times)}")
    print(f"acknowledged payouts: {len(acknowledged)} of {MEMBERS}")
    print(f"errors answered or seen before a retry succeeded: {errors or 'none'}")
    print(f"/readyz just after each restart: {ready_during}; after: {ready_after}")
    print(f"decisions in the database: {decisions} (doubled: {decisions - len(acknowledged)})")
    print(f"ledger verify: {'ok' if verify.returncode == 0 else 'FAILED ' + verify.stdout}")
    lost = MEMBERS - len(acknowledged)
    ok = lost == 0 and decisions == MEMBERS and verify.returncode == 0 and ready_after == 200
    print("finding: nothing lost, nothing doubled, recovered without a hand" if ok else "finding: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
