-- Idempotency keys of API requests that move money: the first answer is kept and replayed for
-- a retry with the same key and body. `locked_until` is the lease of a request in flight: past
-- it, the process that held it is taken to have died and a retry may take the key over.
CREATE TABLE idempotency_keys (
    tenant          TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    status          INTEGER,
    response        TEXT,
    created_at      TEXT NOT NULL,
    locked_until    TEXT NOT NULL,
    PRIMARY KEY (tenant, key)
) STRICT, WITHOUT ROWID;
