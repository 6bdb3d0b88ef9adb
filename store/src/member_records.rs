//! What evaluations read of each member — the profile, the readings in a period's window and
//! the lab results before its end — for the payout writer, previews and back-tests alike.
//!
//! On PostgreSQL the three are read in one statement, a row a member with each reading column
//! as one array (readings and labs as one value a member): one round trip, not three, on
//! every payout's path. SQLite reads them in three statements (a statement there costs a hop
//! to its driver's thread, not a round trip), the readings a row a member too
//! ([`push_load_readings`]); a payout group runs those three with its other reads in one call
//! (`group/read/one_call.rs`).
//! Both give the same records: a differential test holds the one to the other.

use crate::db::{ByKeys, Money, Tx, on_tx};
use crate::error::StoreError;
use crate::inputs::StoredReading;
use crate::ledger::INSERT_ROWS_MAX;
use chrono::{DateTime, FixedOffset};
use incentive_engine::policy::MemberProfile;
use incentive_engine::{Hba1c, LabResult, MemberId};
use rust_decimal::Decimal;
use sqlx::{FromRow as _, Row};
use std::collections::HashMap;

/// Each member's profile, readings in a window and labs before its end, by member. A member
/// not on record has no profile; readings and labs are in time order (readings by time, then
/// source), and a member with none has no entry.
#[derive(Debug, Default)]
pub(crate) struct MemberRecords {
    pub(crate) profiles: HashMap<String, MemberProfile>,
    pub(crate) readings: HashMap<String, Vec<StoredReading>>,
    pub(crate) labs: HashMap<String, Vec<LabResult>>,
}

/// The records of `members` for the window `[start_ms, end_ms)`: their profiles, readings in
/// it and labs before its end.
pub(crate) async fn load_member_records(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
    (start_ms, end_ms): (i64, i64),
) -> Result<MemberRecords, StoreError> {
    let keep = tx.keeps_prepared();
    let Tx::Postgres(c) = tx else {
        return Ok(MemberRecords {
            profiles: load_profiles(tx, tenant, members).await?,
            readings: load_readings(tx, tenant, members, start_ms, end_ms).await?,
            labs: load_labs(tx, tenant, members, end_ms).await?,
        });
    };
    let mut out = MemberRecords::default();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        // Each aggregate orders its own input: an order inherited from a subquery is not one
        // PostgreSQL promises to keep. No subquery can be pulled up into a join (two
        // aggregate, the profile's has `OFFSET 0`), so each is a lookup of one member whatever
        // the one plan the reads' pool makes of it (`db::PgPools`): as a join, the profile was
        // planned on an empty table as a hash of all the tenant's members.
        let rows = sqlx::query(
            "SELECT m.member_id, p.member_id IS NOT NULL, p.age, p.sex, p.region, p.diabetes_type, \
               p.insulin, p.enrolled_on, p.attributes, r.t, r.o, r.v, r.f, r.c, r.s, l.t, l.o, l.h \
             FROM unnest($1::text[]) AS m(member_id) \
             LEFT JOIN LATERAL (SELECT member_id, age, sex, region, diabetes_type, insulin, \
                 enrolled_on, attributes FROM members \
               WHERE tenant = $2 AND member_id = m.member_id OFFSET 0) AS p ON true \
             CROSS JOIN LATERAL (SELECT \
                 array_agg(time_ms ORDER BY time_ms, source) AS t, \
                 array_agg(offset_s ORDER BY time_ms, source) AS o, \
                 array_agg(mg_dl ORDER BY time_ms, source) AS v, \
                 array_agg(flag ORDER BY time_ms, source) AS f, \
                 array_agg(context ORDER BY time_ms, source) AS c, \
                 array_agg(source ORDER BY time_ms, source) AS s \
               FROM readings WHERE tenant = $2 AND member_id = m.member_id \
                 AND time_ms >= $3 AND time_ms < $4) AS r \
             CROSS JOIN LATERAL (SELECT \
                 array_agg(time_ms ORDER BY time_ms) AS t, \
                 array_agg(offset_s ORDER BY time_ms) AS o, \
                 array_agg(hba1c ORDER BY time_ms) AS h \
               FROM labs WHERE tenant = $2 AND member_id = m.member_id AND time_ms < $4) AS l",
        )
        .bind(chunk)
        .bind(tenant)
        .bind(start_ms)
        .bind(end_ms)
        .persistent(keep)
        .fetch_all(&mut **c)
        .await?;
        for row in &rows {
            add_member_row(&mut out, row)?;
        }
    }
    Ok(out)
}

/// One member's row of [`load_member_records`]' PostgreSQL statement, into `out`.
fn add_member_row(out: &mut MemberRecords, row: &sqlx::postgres::PgRow) -> Result<(), StoreError> {
    let member: String = row.try_get(0)?;
    if row.try_get::<bool, _>(1)? {
        let (id, profile) = profile_from((
            member.clone(),
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
            row.try_get(5)?,
            row.try_get(6)?,
            row.try_get(7)?,
            row.try_get(8)?,
        ))?;
        out.profiles.insert(id, profile);
    }
    let uneven = || StoreError::Corrupt(format!("member `{member}`: readings of uneven columns"));
    if let Some(t) = row.try_get::<Option<Vec<i64>>, _>(9)? {
        let o: Vec<i32> = row.try_get::<Option<_>, _>(10)?.unwrap_or_default();
        let v: Vec<Option<f64>> = row.try_get::<Option<_>, _>(11)?.unwrap_or_default();
        let f: Vec<Option<String>> = row.try_get::<Option<_>, _>(12)?.unwrap_or_default();
        let c: Vec<String> = row.try_get::<Option<_>, _>(13)?.unwrap_or_default();
        let s: Vec<String> = row.try_get::<Option<_>, _>(14)?.unwrap_or_default();
        if [o.len(), v.len(), f.len(), c.len(), s.len()] != [t.len(); 5] {
            return Err(uneven());
        }
        let readings = t
            .into_iter()
            .zip(o)
            .zip(v)
            .zip(f)
            .zip(c)
            .zip(s)
            .map(|(((((t, o), v), f), c), s)| StoredReading { t, o, v, f, c, s })
            .collect();
        out.readings.insert(member.clone(), readings);
    }
    if let Some(t) = row.try_get::<Option<Vec<i64>>, _>(15)? {
        let o: Vec<i32> = row.try_get::<Option<_>, _>(16)?.unwrap_or_default();
        let h: Vec<Decimal> = row.try_get::<Option<_>, _>(17)?.unwrap_or_default();
        if [o.len(), h.len()] != [t.len(); 2] {
            return Err(StoreError::Corrupt(format!(
                "member `{member}`: lab results of uneven columns"
            )));
        }
        let labs = t
            .into_iter()
            .zip(o)
            .zip(h)
            .map(|((t, o), h)| lab_from(&member, t, o, h.normalize()))
            .collect::<Result<Vec<_>, _>>()?;
        out.labs.insert(member, labs);
    }
    Ok(())
}

pub(crate) async fn load_profiles(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
) -> Result<HashMap<String, MemberProfile>, StoreError> {
    let mut rows: Vec<ProfileRow> = Vec::new();
    let keep = tx.keeps_prepared();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        rows.extend(on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new("");
            push_load_profiles(&mut q, tenant, chunk);
            q.build().persistent(keep)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(ProfileRow::from_row)
                .collect::<sqlx::Result<Vec<ProfileRow>>>()?
        }));
    }
    rows.into_iter().map(profile_from).collect()
}

/// [`load_profiles`]' statement for some of the members, at the end of `q`.
pub(crate) fn push_load_profiles<'a, Db: ByKeys>(
    q: &mut sqlx::QueryBuilder<'a, Db>,
    tenant: &'a str,
    members: &[&'a str],
) {
    Db::push_select_by_keys(
        q,
        "SELECT member_id, age, sex, region, diabetes_type, insulin, enrolled_on, attributes FROM members",
        tenant,
        "member_id",
        members,
    );
    Db::end_by_keys(q);
}

/// A row of `members`, as [`load_profiles`] selects it.
pub(crate) type ProfileRow = (
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<String>,
    Option<String>,
);

pub(crate) fn profile_from(
    (id, age, sex, region, diabetes_type, insulin, enrolled_on, attributes): ProfileRow,
) -> Result<(String, MemberProfile), StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("member `{id}`: bad {what}"));
    let profile = MemberProfile {
        id: MemberId::parse(&id).map_err(|_| corrupt("id"))?,
        age: age
            .map(u32::try_from)
            .transpose()
            .map_err(|_| corrupt("age"))?,
        sex,
        region,
        diabetes_type,
        insulin,
        enrolled_on: enrolled_on
            .map(|d| d.parse())
            .transpose()
            .map_err(|_| corrupt("enrolment date"))?,
        attributes: attributes
            .map(|a| serde_json::from_str(&a))
            .transpose()
            .map_err(|_| corrupt("attributes"))?
            .unwrap_or_default(),
    };
    Ok((id, profile))
}

/// A row of [`load_readings`] on PostgreSQL: the member, then the reading's columns.
macro_rules! member_reading {
    () => {
        |r| -> sqlx::Result<(String, $crate::inputs::StoredReading)> {
            Ok((
                r.try_get(0)?,
                $crate::inputs::StoredReading {
                    t: r.try_get(1)?,
                    o: r.try_get(2)?,
                    v: r.try_get(3)?,
                    f: r.try_get(4)?,
                    c: r.try_get(5)?,
                    s: r.try_get(6)?,
                },
            ))
        }
    };
}

pub(crate) async fn load_readings(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
    start_ms: i64,
    end_ms: i64,
) -> Result<HashMap<String, Vec<StoredReading>>, StoreError> {
    let mut out: HashMap<String, Vec<StoredReading>> = HashMap::new();
    let keep = tx.keeps_prepared();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let rows = match &mut *tx {
            Tx::Postgres(c) => {
                // One index lookup per member, whatever the statistics say. Written as
                // `member_id IN (…)`, the query was planned in a soak's first minutes (the
                // statistics behind the table's growth) as one scan of every reading of the
                // tenant in the period, filtered by member: p50 doubled in three minutes. A
                // LATERAL subquery alone is pulled up into the same plan; `OFFSET 0` keeps it
                // a subquery run for each member.
                sqlx::query(
                    "SELECT m.member_id, r.time_ms, r.offset_s, r.mg_dl, r.flag, r.context, r.source \
                     FROM unnest($1::text[]) AS m(member_id) CROSS JOIN LATERAL (\
                       SELECT time_ms, offset_s, mg_dl, flag, context, source FROM readings \
                       WHERE tenant = $2 AND member_id = m.member_id AND time_ms >= $3 AND time_ms < $4 \
                       OFFSET 0) AS r \
                     ORDER BY m.member_id, r.time_ms, r.source",
                )
                .bind(chunk)
                .bind(tenant)
                .bind(start_ms)
                .bind(end_ms)
                .persistent(keep)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(member_reading!())
                .collect::<sqlx::Result<Vec<_>>>()?
            }
            Tx::Sqlite(c) => {
                let mut q = sqlx::QueryBuilder::new("");
                push_load_readings(&mut q, tenant, chunk, (start_ms, end_ms));
                let rows = q.build().persistent(keep).fetch_all(&mut **c).await?;
                add_member_readings(&mut out, &rows)?;
                continue;
            }
        };
        for (member, reading) in rows {
            out.entry(member).or_default().push(reading);
        }
    }
    Ok(out)
}

/// SQLite: [`load_readings`]' statement for some of the members, at the end of `q`: a row a
/// member with a reading, its readings one JSON array in time order (then by source).
///
/// One row a member, not one a reading: sqlx's SQLite driver hands each row from its thread
/// to the caller, which for a group of 64 payouts (about 1,300 readings) was a third of its
/// read (BENCHMARKS.md §4). A glucose value is a `REAL`, which JSON would print with 15
/// significant digits, losing the last bits of some; `quote()` prints it with as many as it
/// takes to be read back as the same double (15, or 21 where 15 would not do), as text, which
/// [`add_member_readings`] reads back — the same bits as a row a reading would give
/// (store/tests/member_records.rs holds it to random values and to PostgreSQL's).
pub(crate) fn push_load_readings<'a>(
    q: &mut sqlx::QueryBuilder<'a, sqlx::Sqlite>,
    tenant: &'a str,
    members: &[&'a str],
    (start_ms, end_ms): (i64, i64),
) {
    sqlx::Sqlite::push_select_by_keys(
        q,
        "SELECT member_id, json_group_array(json_array(time_ms, offset_s, quote(mg_dl), flag, context, source) \
           ORDER BY time_ms, source) FROM readings",
        tenant,
        "member_id",
        members,
    );
    q.push(" AND time_ms >= ").push_bind(start_ms);
    q.push(" AND time_ms < ").push_bind(end_ms);
    sqlx::Sqlite::end_by_keys(q);
    q.push(" GROUP BY member_id");
}

/// A reading as [`push_load_readings`] writes it into its member's array: time, offset, the
/// value as `quote()` prints it (`NULL` for `LO`/`HI`), flag, context, source.
type QuotedReading = (i64, i32, String, Option<String>, String, String);

/// Rows of [`push_load_readings`]' statement, into `out` by member.
pub(crate) fn add_member_readings(
    out: &mut HashMap<String, Vec<StoredReading>>,
    rows: &[sqlx::sqlite::SqliteRow],
) -> Result<(), StoreError> {
    for row in rows {
        let member: String = row.try_get(0)?;
        let array: String = row.try_get(1)?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("member `{member}`: {what}"));
        let quoted: Vec<QuotedReading> =
            serde_json::from_str(&array).map_err(|e| corrupt(&format!("readings: {e}")))?;
        let readings = quoted
            .into_iter()
            .map(|(t, o, v, f, c, s)| {
                let v = match v.as_str() {
                    "NULL" => None,
                    text => Some(
                        text.parse::<f64>()
                            .map_err(|_| corrupt(&format!("a glucose value `{text}`")))?,
                    ),
                };
                Ok(StoredReading { t, o, v, f, c, s })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.entry(member).or_default().extend(readings);
    }
    Ok(())
}

pub(crate) async fn load_labs(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
    before_ms: i64,
) -> Result<HashMap<String, Vec<LabResult>>, StoreError> {
    let mut out: HashMap<String, Vec<LabResult>> = HashMap::new();
    let keep = tx.keeps_prepared();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<LabRow> = on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new("");
            push_load_labs(&mut q, tenant, chunk, before_ms);
            q.build().persistent(keep)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(LabRow::from_row)
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        add_labs(&mut out, rows)?;
    }
    Ok(out)
}

/// [`load_labs`]' statement for some of the members, at the end of `q`.
pub(crate) fn push_load_labs<'a, Db: ByKeys>(
    q: &mut sqlx::QueryBuilder<'a, Db>,
    tenant: &'a str,
    members: &[&'a str],
    before_ms: i64,
) where
    i64: sqlx::Type<Db> + sqlx::Encode<'a, Db>,
{
    Db::push_select_by_keys(
        q,
        "SELECT member_id, time_ms, offset_s, hba1c FROM labs",
        tenant,
        "member_id",
        members,
    );
    q.push(" AND time_ms < ").push_bind(before_ms);
    Db::end_by_keys(q);
    q.push(" ORDER BY member_id, time_ms");
}

/// A row of [`load_labs`]' statement: the member, the time, its offset and the HbA1c.
pub(crate) type LabRow = (String, i64, i32, Money);

/// Rows of [`load_labs`]' statement, into `out` by member.
pub(crate) fn add_labs(
    out: &mut HashMap<String, Vec<LabResult>>,
    rows: Vec<LabRow>,
) -> Result<(), StoreError> {
    for (member, t, o, value) in rows {
        let lab = lab_from(&member, t, o, value.0)?;
        out.entry(member).or_default().push(lab);
    }
    Ok(())
}

fn lab_from(member: &str, t: i64, o: i32, hba1c: Decimal) -> Result<LabResult, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("member `{member}`: a bad lab result"));
    let offset = FixedOffset::east_opt(o).ok_or_else(corrupt)?;
    let time: DateTime<FixedOffset> = DateTime::from_timestamp_millis(t)
        .ok_or_else(corrupt)?
        .with_timezone(&offset);
    Ok(LabResult {
        time,
        hba1c: Hba1c::from_percent(hba1c).map_err(|_| corrupt())?,
    })
}
