-- incentive store, PostgreSQL. Money is NUMERIC; instants are TIMESTAMPTZ (microseconds).

CREATE TABLE tenants (
    name        TEXT PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES tenants(name),
    role        TEXT NOT NULL CHECK (role IN ('author', 'actuary', 'platform', 'auditor', 'admin')),
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

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
    created_at      TIMESTAMPTZ NOT NULL,
    published_at    TIMESTAMPTZ,
    PRIMARY KEY (tenant, policy_id, version)
);

CREATE FUNCTION incentive_policy_versions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'a published policy version is immutable';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND NOT (
        OLD.status = 'published' AND NEW.status = 'retired'
        AND (NEW.tenant, NEW.policy_id, NEW.version, NEW.content_hash, NEW.period_kind,
             NEW.effective_from, NEW.files, NEW.created_at)
            IS NOT DISTINCT FROM
            (OLD.tenant, OLD.policy_id, OLD.version, OLD.content_hash, OLD.period_kind,
             OLD.effective_from, OLD.files, OLD.created_at)
        AND NEW.effective_to IS NOT DISTINCT FROM OLD.effective_to
        AND NEW.published_at IS NOT DISTINCT FROM OLD.published_at)
    THEN
        RAISE EXCEPTION 'a published policy version is immutable';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER policy_versions_published_are_immutable
BEFORE UPDATE OR DELETE ON policy_versions
FOR EACH ROW EXECUTE FUNCTION incentive_policy_versions_guard();

CREATE TABLE members (
    tenant          TEXT NOT NULL REFERENCES tenants(name),
    member_id       TEXT NOT NULL,
    age             BIGINT,
    sex             TEXT,
    region          TEXT,
    diabetes_type   TEXT,
    insulin         BOOLEAN,
    enrolled_on     TEXT,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, member_id)
);

CREATE TABLE readings (
    tenant      TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    time_ms     BIGINT NOT NULL,
    source      TEXT NOT NULL,
    offset_s    INTEGER NOT NULL,
    mg_dl       DOUBLE PRECISION,
    flag        TEXT CHECK (flag IN ('LO', 'HI')),
    context     TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, member_id, time_ms, source),
    FOREIGN KEY (tenant, member_id) REFERENCES members(tenant, member_id),
    CHECK ((mg_dl IS NULL) <> (flag IS NULL))
);

CREATE TABLE labs (
    tenant      TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    time_ms     BIGINT NOT NULL,
    offset_s    INTEGER NOT NULL,
    hba1c       NUMERIC NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, member_id, time_ms),
    FOREIGN KEY (tenant, member_id) REFERENCES members(tenant, member_id)
);

CREATE TABLE decisions (
    id              TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL,
    member_id       TEXT NOT NULL,
    policy_id       TEXT NOT NULL,
    policy_version  TEXT NOT NULL,
    period          TEXT NOT NULL,
    ordinal         BIGINT NOT NULL,
    supersedes      TEXT REFERENCES decisions(id),
    input_hash      TEXT NOT NULL,
    data_hash       TEXT NOT NULL,
    decision_hash   TEXT NOT NULL,
    body            TEXT NOT NULL,
    reward          NUMERIC NOT NULL,
    premium_adjustment_percent NUMERIC NOT NULL,
    reward_posted   NUMERIC NOT NULL,
    premium_posted  NUMERIC NOT NULL,
    qualified       BOOLEAN NOT NULL,
    tier            TEXT,
    points          BIGINT NOT NULL,
    ledger_seq      BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant, member_id, policy_id, period, ordinal),
    FOREIGN KEY (tenant, policy_id, policy_version) REFERENCES policy_versions(tenant, policy_id, version)
);

CREATE INDEX decisions_by_member ON decisions (tenant, member_id, policy_id, period);

CREATE TABLE decision_inputs (
    decision_id TEXT PRIMARY KEY REFERENCES decisions(id),
    inputs      TEXT,
    erased_at   TIMESTAMPTZ
);

CREATE TABLE ledger_entries (
    tenant          TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    decision_id     TEXT,
    decision_hash   TEXT,
    policy_id       TEXT NOT NULL,
    policy_version  TEXT NOT NULL,
    policy_hash     TEXT NOT NULL,
    reverses        BIGINT,
    memo            TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);

CREATE TABLE ledger_postings (
    tenant      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    line        BIGINT NOT NULL,
    account     TEXT NOT NULL,
    currency    TEXT NOT NULL,
    amount      NUMERIC NOT NULL,
    PRIMARY KEY (tenant, seq, line)
);

CREATE TABLE chain_heads (
    tenant  TEXT PRIMARY KEY,
    seq     BIGINT NOT NULL,
    hash    TEXT NOT NULL
);

CREATE TABLE account_balances (
    tenant      TEXT NOT NULL,
    account     TEXT NOT NULL,
    currency    TEXT NOT NULL,
    balance     NUMERIC NOT NULL,
    PRIMARY KEY (tenant, account, currency)
);

CREATE FUNCTION incentive_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
FOR EACH STATEMENT EXECUTE FUNCTION incentive_append_only();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_postings
FOR EACH STATEMENT EXECUTE FUNCTION incentive_append_only();
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON decisions
FOR EACH STATEMENT EXECUTE FUNCTION incentive_append_only();
