-- Simulations started over the API: the request, how far the run has got, and its results.
-- A run belongs to the process that accepted it (`runner`), which refreshes `heartbeat_ms`
-- (wall-clock milliseconds) while the run waits or works; a run whose heartbeat has gone quiet
-- was lost with its process, and is reported so.
CREATE TABLE simulations (
    id                    TEXT PRIMARY KEY,
    tenant                TEXT NOT NULL REFERENCES tenants(name),
    request               TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    member_periods_done   BIGINT NOT NULL DEFAULT 0,
    member_periods_total  BIGINT NOT NULL,
    error                 TEXT,
    summary               TEXT,
    report                TEXT,
    runner                TEXT NOT NULL,
    heartbeat_ms          BIGINT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    started_at            TIMESTAMPTZ,
    finished_at           TIMESTAMPTZ
);
CREATE INDEX simulations_by_tenant ON simulations (tenant, created_at);
