-- A simulation may be cancelled by its tenant (`DELETE /v1/simulations/{id}`): the status
-- `cancelled` joins the others. SQLite cannot change a CHECK constraint in place, so the
-- table is rebuilt with its rows, as SQLite's documentation for ALTER TABLE describes.
CREATE TABLE simulations_new (
    id                    TEXT PRIMARY KEY,
    tenant                TEXT NOT NULL REFERENCES tenants(name),
    request               TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    member_periods_done   INTEGER NOT NULL DEFAULT 0,
    member_periods_total  INTEGER NOT NULL,
    error                 TEXT,
    summary               TEXT,
    report                TEXT,
    runner                TEXT NOT NULL,
    heartbeat_ms          INTEGER NOT NULL,
    created_at            TEXT NOT NULL,
    started_at            TEXT,
    finished_at           TEXT
) STRICT;
INSERT INTO simulations_new (id, tenant, request, status, member_periods_done, member_periods_total,
                             error, summary, report, runner, heartbeat_ms, created_at, started_at, finished_at)
    SELECT id, tenant, request, status, member_periods_done, member_periods_total,
           error, summary, report, runner, heartbeat_ms, created_at, started_at, finished_at
    FROM simulations;
DROP TABLE simulations;
ALTER TABLE simulations_new RENAME TO simulations;
CREATE INDEX simulations_by_tenant ON simulations (tenant, created_at);
