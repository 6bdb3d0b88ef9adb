//! PostgreSQL's bulk path for readings: binary `COPY`, straight into `readings` when nothing
//! of the upload can already be on record, through a staging table when something can.
//!
//! `COPY` cannot skip a row whose key is taken, so an upload that may repeat readings on
//! record goes to a temporary table first and on with one `INSERT … ON CONFLICT DO NOTHING`
//! — which writes every reading twice and, on this project's machines, cost about three
//! quarters of an upload's time. Most uploads are new readings: the members whose upload
//! spans no reading on record (one index probe a member) are copied straight into `readings`,
//! under a savepoint; if a key is taken after all (a reading twice in one upload, another
//! upload committed meanwhile), the savepoint is rolled back and those rows take the staging
//! path too. Either way the readings stored and the counts reported are the same.
//!
//! The rows are sent in `COPY`'s binary format (PostgreSQL's documentation, "COPY … Binary
//! Format"), which the server stores without parsing text; [`BinaryCopy`] writes the five
//! field types this table has.

use crate::db::Instant;
use crate::error::StoreError;
use crate::inputs::ReadingRow;
use std::collections::HashSet;

type PgTx = crate::db::Handle<sqlx::Postgres>;

/// The two copies, straight into `readings` and into the staging table; [`copy_binary`] writes
/// these columns in this order.
const COPY_STRAIGHT: &str = "COPY readings (tenant, member_id, time_ms, source, offset_s, mg_dl, flag, context, received_at) FROM STDIN (FORMAT binary)";
const COPY_STAGED: &str = "COPY readings_upload (tenant, member_id, time_ms, source, offset_s, mg_dl, flag, context, received_at) FROM STDIN (FORMAT binary)";

/// Bytes buffered before they are sent to the server.
const SEND_BYTES_MAX: usize = 1 << 20;

/// PostgreSQL's SQLSTATE for a unique key already taken.
const UNIQUE_VIOLATION: &str = "23505";

/// Stores `rows` (readings of enrolled members) of `tenant`, received `at`; returns how many
/// were new, the rest being already on record.
pub(crate) async fn copy_readings(
    tx: &mut PgTx,
    tenant: &str,
    rows: &[ReadingRow<'_>],
    at: Instant,
) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let on_record = members_with_readings_in_span(tx, tenant, rows).await?;
    let (fresh, mut staged): (Vec<_>, Vec<_>) =
        rows.iter().partition(|r| !on_record.contains(r.member));
    let mut accepted = 0;
    if !fresh.is_empty() {
        let mut straight = sqlx::Acquire::begin(&mut **tx).await?;
        match copy_binary(&mut straight, COPY_STRAIGHT, tenant, &fresh, at).await {
            Ok(n) => {
                straight.commit().await?;
                accepted += n;
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(UNIQUE_VIOLATION) => {
                // A key taken after all: nothing of the straight copy is kept, and its rows
                // are deduplicated with the others.
                straight.rollback().await?;
                staged.extend(fresh);
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !staged.is_empty() {
        accepted += through_staging(tx, tenant, &staged, at).await?;
    }
    Ok(accepted)
}

/// The members of `rows` with a reading on record between their upload's first and last
/// reading: only theirs can repeat one. One index probe a member (the `LATERAL … LIMIT 1`
/// keeps it a probe whatever the statistics say).
async fn members_with_readings_in_span(
    tx: &mut PgTx,
    tenant: &str,
    rows: &[ReadingRow<'_>],
) -> Result<HashSet<String>, StoreError> {
    let mut spans: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    for r in rows {
        let span = spans.entry(r.member).or_insert((r.t, r.t));
        span.0 = span.0.min(r.t);
        span.1 = span.1.max(r.t);
    }
    let ids: Vec<&str> = spans.keys().copied().collect();
    let firsts: Vec<i64> = spans.values().map(|s| s.0).collect();
    let lasts: Vec<i64> = spans.values().map(|s| s.1).collect();
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT m.id FROM unnest($2::text[], $3::int8[], $4::int8[]) AS m(id, first, last) \
         CROSS JOIN LATERAL (SELECT 1 FROM readings WHERE tenant = $1 AND member_id = m.id \
         AND time_ms >= m.first AND time_ms <= m.last LIMIT 1) AS r",
    )
    .bind(tenant)
    .bind(&ids)
    .bind(&firsts)
    .bind(&lasts)
    .fetch_all(&mut **tx)
    .await?;
    Ok(found.into_iter().collect())
}

/// The staging path: every row copied to a temporary table, then moved in key order with
/// `ON CONFLICT DO NOTHING`, so readings on record (or twice in the upload) are kept once.
async fn through_staging(
    tx: &mut PgTx,
    tenant: &str,
    rows: &[&ReadingRow<'_>],
    at: Instant,
) -> Result<u64, StoreError> {
    sqlx::query(
        "CREATE TEMPORARY TABLE IF NOT EXISTS readings_upload \
         (LIKE readings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
    )
    .execute(&mut **tx)
    .await?;
    copy_binary(tx, COPY_STAGED, tenant, rows, at).await?;
    // In the key's order, the index is written page after page rather than all over.
    let moved = sqlx::query(
        "INSERT INTO readings SELECT * FROM readings_upload \
         ORDER BY tenant, member_id, time_ms, source ON CONFLICT DO NOTHING",
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(moved)
}

/// `statement` (one of the two copies above) of `rows`; the rows the server stored.
async fn copy_binary(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    tenant: &str,
    rows: &[&ReadingRow<'_>],
    at: Instant,
) -> Result<u64, sqlx::Error> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let received = at.get().timestamp_micros();
    let mut out = BinaryCopy::start();
    for r in rows {
        out.row(9);
        out.text(tenant)?;
        out.text(r.member)?;
        out.int8(r.t);
        out.text(r.s)?;
        out.int4(r.o);
        match r.v {
            Some(v) => out.float8(v),
            None => out.null(),
        }
        match r.f {
            Some(f) => out.text(f)?,
            None => out.null(),
        }
        out.text(r.c)?;
        out.timestamptz_unix_micros(received);
        if out.bytes.len() >= SEND_BYTES_MAX {
            copy.send(out.bytes.as_slice()).await?;
            out.bytes.clear();
        }
    }
    out.end();
    copy.send(out.bytes.as_slice()).await?;
    copy.finish().await
}

/// Rows in `COPY`'s binary format: a signature and two zero words, then each row as a field
/// count and each field as its length (−1 for null) and its value in network byte order,
/// then −1 as the last field count.
struct BinaryCopy {
    bytes: Vec<u8>,
}

/// Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch for timestamps.
const POSTGRES_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

impl BinaryCopy {
    fn start() -> Self {
        let mut bytes = Vec::with_capacity(SEND_BYTES_MAX + 4096);
        bytes.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        bytes.extend_from_slice(&0_i32.to_be_bytes()); // flags: no OIDs
        bytes.extend_from_slice(&0_i32.to_be_bytes()); // no header extension
        Self { bytes }
    }

    fn row(&mut self, fields: i16) {
        self.bytes.extend_from_slice(&fields.to_be_bytes());
    }

    fn text(&mut self, value: &str) -> Result<(), sqlx::Error> {
        let len = i32::try_from(value.len())
            .map_err(|_| sqlx::Error::Protocol("a text field past 2 GiB".into()))?;
        self.bytes.extend_from_slice(&len.to_be_bytes());
        self.bytes.extend_from_slice(value.as_bytes());
        Ok(())
    }

    fn int8(&mut self, value: i64) {
        self.bytes.extend_from_slice(&8_i32.to_be_bytes());
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    fn int4(&mut self, value: i32) {
        self.bytes.extend_from_slice(&4_i32.to_be_bytes());
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    fn float8(&mut self, value: f64) {
        self.bytes.extend_from_slice(&8_i32.to_be_bytes());
        self.bytes.extend_from_slice(&value.to_bits().to_be_bytes());
    }

    fn timestamptz_unix_micros(&mut self, micros: i64) {
        self.int8(micros - POSTGRES_EPOCH_UNIX_MICROS);
    }

    fn null(&mut self) {
        self.bytes.extend_from_slice(&(-1_i32).to_be_bytes());
    }

    fn end(&mut self) {
        self.bytes.extend_from_slice(&(-1_i16).to_be_bytes());
    }
}
