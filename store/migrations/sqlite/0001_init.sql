-- incentive store, SQLite. Money is canonical decimal text (never REAL); instants are UTC
-- RFC 3339 text with microseconds, so that they sort as text and match PostgreSQL's precision.

CREATE TABLE tenants (
    name        TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES tenants(name),
    role        TEXT NOT NULL CHECK (role IN ('author', 'actuary', 'platform', 'auditor', 'admin')),
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;

CREATE TABLE policy_versions (
    tenant          TEXT NOT NULL REFERENCES tenants(name),
    policy_id       TEXT NOT NULL,
    version         TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
    period_kind     TEXT NOT NULL,
    effective_from  TEXT NOT NULL,
    effective_to    TEXT,
    files           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    published_at    TEXT,
    PRIMARY KEY (tenant, policy_id, version)
) STRICT;

-- A published version is immutable: only its move to retired is allowed, and nothing but a
-- draft may be deleted.
CREATE TRIGGER policy_versions_published_are_immutable
BEFORE UPDATE ON policy_versions
WHEN OLD.status <> 'draft' AND NOT (
    OLD.status = 'published' AND NEW.status = 'retired'
    AND NEW.files IS OLD.files AND NEW.content_hash IS OLD.content_hash
    AND NEW.effective_from IS OLD.effective_from AND NEW.effective_to IS OLD.effective_to
    AND NEW.policy_id IS OLD.policy_id AND NEW.version IS OLD.version
    AND NEW.tenant IS OLD.tenant AND NEW.period_kind IS OLD.period_kind
    AND NEW.published_at IS OLD.published_at AND NEW.created_at IS OLD.created_at)
BEGIN
    SELECT RAISE(ABORT, 'a published policy version is immutable');
END;

CREATE TRIGGER policy_versions_published_are_kept
BEFORE DELETE ON policy_versions
WHEN OLD.status <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'a published policy version is immutable');
END;

CREATE TABLE members (
    tenant          TEXT NOT NULL REFERENCES tenants(name),
    member_id       TEXT NOT NULL,
    age             INTEGER,
    sex             TEXT,
    region          TEXT,
    diabetes_type   TEXT,
    insulin         INTEGER,
    enrolled_on     TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (tenant, member_id)
) STRICT;

-- One row per reading, deduplicated on (member, time, source) as the engine does. mg_dl is
-- NULL for the meter's LO/HI flags, which `flag` then holds.
CREATE TABLE readings (
    tenant      TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    time_ms     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    offset_s    INTEGER NOT NULL,
    mg_dl       REAL,
    flag        TEXT CHECK (flag IN ('LO', 'HI')),
    context     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (tenant, member_id, time_ms, source),
    FOREIGN KEY (tenant, member_id) REFERENCES members(tenant, member_id),
    CHECK ((mg_dl IS NULL) <> (flag IS NULL))
) STRICT, WITHOUT ROWID;

CREATE TABLE labs (
    tenant      TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    time_ms     INTEGER NOT NULL,
    offset_s    INTEGER NOT NULL,
    hba1c       TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (tenant, member_id, time_ms),
    FOREIGN KEY (tenant, member_id) REFERENCES members(tenant, member_id)
) STRICT, WITHOUT ROWID;

-- Decisions, append-only. `ordinal` 0 is the first decision for a (member, policy, period);
-- each true-up after late readings takes the next, so the unique key pays a period once.
CREATE TABLE decisions (
    id              TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL,
    member_id       TEXT NOT NULL,
    policy_id       TEXT NOT NULL,
    policy_version  TEXT NOT NULL,
    period          TEXT NOT NULL,
    ordinal         INTEGER NOT NULL,
    supersedes      TEXT REFERENCES decisions(id),
    input_hash      TEXT NOT NULL,
    data_hash       TEXT NOT NULL,
    decision_hash   TEXT NOT NULL,
    body            TEXT NOT NULL,
    reward          TEXT NOT NULL,
    premium_adjustment_percent TEXT NOT NULL,
    reward_posted   TEXT NOT NULL,
    premium_posted  TEXT NOT NULL,
    qualified       INTEGER NOT NULL,
    tier            TEXT,
    points          INTEGER NOT NULL,
    ledger_seq      INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (tenant, member_id, policy_id, period, ordinal),
    FOREIGN KEY (tenant, policy_id, policy_version) REFERENCES policy_versions(tenant, policy_id, version)
) STRICT;

CREATE INDEX decisions_by_member ON decisions (tenant, member_id, policy_id, period);

-- What a decision read, kept so that it can be replayed; erased with the member's readings.
CREATE TABLE decision_inputs (
    decision_id TEXT PRIMARY KEY REFERENCES decisions(id),
    inputs      TEXT,
    erased_at   TEXT
) STRICT;

CREATE TABLE ledger_entries (
    tenant          TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    decision_id     TEXT,
    decision_hash   TEXT,
    policy_id       TEXT NOT NULL,
    policy_version  TEXT NOT NULL,
    policy_hash     TEXT NOT NULL,
    reverses        INTEGER,
    memo            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE ledger_postings (
    tenant      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    account     TEXT NOT NULL,
    currency    TEXT NOT NULL,
    amount      TEXT NOT NULL,
    PRIMARY KEY (tenant, seq, line)
) STRICT, WITHOUT ROWID;

-- The chain's head and the running balances are derived data, kept for speed; `verify`
-- recomputes both from the entries.
CREATE TABLE chain_heads (
    tenant  TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL,
    hash    TEXT NOT NULL
) STRICT;

CREATE TABLE account_balances (
    tenant      TEXT NOT NULL,
    account     TEXT NOT NULL,
    currency    TEXT NOT NULL,
    balance     TEXT NOT NULL,
    PRIMARY KEY (tenant, account, currency)
) STRICT, WITHOUT ROWID;

-- The ledger and the decisions are append-only: the database itself refuses edits.
CREATE TRIGGER ledger_entries_append_only_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_entries_append_only_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_postings_append_only_update BEFORE UPDATE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_postings_append_only_delete BEFORE DELETE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER decisions_append_only_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER decisions_append_only_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
