#!/usr/bin/env python3
"""What a lone SQLite payout could cost at best, beside what `ledger-load` measures.

    sqlite_floor.py floor DB N        N lone payouts' statements on DB through Python's sqlite3:
                                      in-process, no thread hops, nothing decided
    sqlite_floor.py frames DB N CMD…  runs CMD (which makes N payouts on DB) while a reader
                                      holds the WAL from being reset, and prints the WAL frames
                                      (pages) each payout's commit wrote

DB is a hot-pool database made by `ledger-load setup` (BENCHMARKS.md §4). `floor` runs the
reads and writes a lone payout makes — the chain head, keys, profile, readings, labs,
decisions, balances in a read transaction; then, under BEGIN IMMEDIATE, the head, an entry,
two postings, two balances, a decision and its inputs, COMMIT — with rows of a payout's sizes.
(Python's SQLite may be older than the bundled one: the readings' json_group_array has no
ORDER BY here, which rows in key order do not need.) It is a floor for the driver, not for
the engine: no policy runs, no hash is made.
"""
import os
import sqlite3
import subprocess
import sys
import time

BODY = "x" * 680  # a tangdaifu-smbg decision's body
INPUTS = "y" * 1635  # and its stored inputs
POOL = "pool:tangdaifu-smbg@1.0.0"


def floor(db: str, n: int) -> None:
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=FULL")
    t_read = t_write = 0.0
    t0 = time.perf_counter()
    for i in range(n):
        m = "L%06d" % (n + i)  # members not paid by a run of `ledger-load pay --members N`
        a = time.perf_counter()
        c.execute("BEGIN")
        seq, h = c.execute("SELECT seq, hash FROM chain_heads WHERE tenant = 'load'").fetchone()
        for sql, args in [
            ("SELECT * FROM idempotency_keys WHERE tenant = 'load' AND key IN (?)", (m,)),
            ("SELECT member_id, age, sex, region, diabetes_type, insulin, enrolled_on, attributes "
             "FROM members WHERE tenant = 'load' AND member_id IN (?)", (m,)),
            ("SELECT member_id, json_group_array(json_array(time_ms, offset_s, quote(mg_dl), flag, "
             "context, source)) FROM readings WHERE tenant = 'load' AND member_id IN (?) "
             "AND time_ms >= 0 AND time_ms < 1900000000000 GROUP BY member_id", (m,)),
            ("SELECT member_id, time_ms, offset_s, hba1c FROM labs WHERE tenant = 'load' "
             "AND member_id IN (?) AND time_ms < 1900000000000 ORDER BY member_id, time_ms", (m,)),
            ("SELECT *, (SELECT erased_at FROM decision_inputs i WHERE i.decision_id = decisions.id) "
             "FROM decisions WHERE tenant = 'load' AND member_id IN (?) ORDER BY period, ordinal", (m,)),
            ("SELECT account, currency, balance FROM account_balances WHERE tenant = 'load' "
             "AND account IN (?, ?, ?, ?)", (POOL, "member:" + m, "premium:x", "mp:" + m)),
        ]:
            c.execute(sql, args).fetchall()
        c.execute("COMMIT")
        b = time.perf_counter()
        c.execute("BEGIN IMMEDIATE")
        s, nh, d = seq + 1, "sha256:%064x" % i, "dec_floor_%d" % i
        c.execute("UPDATE chain_heads SET seq = ?, hash = ? WHERE tenant = 'load' AND seq = ? "
                  "AND hash = ?", (s, nh, seq, h))
        c.execute("INSERT INTO ledger_entries VALUES ('load', ?, 'payout', ?, ?, 'tangdaifu-smbg', "
                  "'1.0.0', 'sha256:p', NULL, 'memo', '2026-01-01T00:00:00Z', ?, ?)", (s, d, nh, h, nh))
        c.execute("INSERT INTO ledger_postings VALUES ('load', ?, 0, ?, 'CNY', '-20.00'), "
                  "('load', ?, 1, ?, 'CNY', '20.00')", (s, POOL, s, "member:" + m))
        c.execute("INSERT INTO account_balances VALUES ('load', ?, 'CNY', '1'), "
                  "('load', ?, 'CNY', '20.00') ON CONFLICT DO UPDATE SET balance = excluded.balance",
                  (POOL, "member:" + m))
        c.execute("INSERT INTO decisions VALUES (?, 'load', ?, 'tangdaifu-smbg', '1.0.0', '2026-01', "
                  "0, NULL, 'h', 'h', 'h', ?, '20.00', '0', '20.00', '0', 1, NULL, 0, ?, "
                  "'2026-01-01T00:00:00Z')", (d, m, BODY, s))
        c.execute("INSERT INTO decision_inputs VALUES (?, ?, NULL)", (d, INPUTS))
        c.execute("COMMIT")
        t_write += time.perf_counter() - b
        t_read += b - a
    elapsed = time.perf_counter() - t0
    print(f"{n} payouts' statements in {elapsed:.3f} s: {n / elapsed:.0f} per second; "
          f"read {t_read / n * 1e6:.0f} us, write and commit {t_write / n * 1e6:.0f} us a payout")


def frames(db: str, n: int, cmd: list) -> None:
    # An open read transaction keeps every frame written after it in the WAL (a checkpoint
    # cannot reset the log past a reader), so the WAL's growth is what the payouts wrote.
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM tenants").fetchone()
    wal = db + "-wal"
    before = os.path.getsize(wal)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    page = reader.execute("PRAGMA page_size").fetchone()[0]
    written = (os.path.getsize(wal) - before) / (page + 24)  # a frame: its header, a page
    print(f"{written / n:.2f} WAL frames a payout ({written:.0f} for {n})")
    reader.execute("COMMIT")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "floor":
        floor(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "frames":
        frames(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    else:
        sys.exit(__doc__)
