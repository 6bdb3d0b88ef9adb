-- Readings without the foreign key to members: checking it on every row cost a bulk upload
-- about half its time, and it guards nothing the writers do not: every path that stores
-- readings checks first that the member is enrolled (members.rs: `enrolled_among`,
-- `require_member`), and a member is never deleted (erasure deletes the readings). SQLite
-- cannot drop a constraint, so the table is made again without it, rows and all.
CREATE TABLE readings_new (
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
    CHECK ((mg_dl IS NULL) <> (flag IS NULL))
) STRICT, WITHOUT ROWID;
INSERT INTO readings_new (tenant, member_id, time_ms, source, offset_s, mg_dl, flag, context, received_at)
    SELECT tenant, member_id, time_ms, source, offset_s, mg_dl, flag, context, received_at FROM readings;
DROP TABLE readings;
ALTER TABLE readings_new RENAME TO readings;
