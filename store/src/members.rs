//! Members, their readings (deduplicated on member, time and source, as the engine does) and
//! their lab results.

use crate::Store;
use crate::db::{ByKeys, Instant, Money, Tx, on_tx};
use crate::error::StoreError;
use crate::inputs::ReadingRow;
use crate::ledger::INSERT_ROWS_MAX;
use incentive_engine::likely_duplicates::LikelyDuplicate;
use incentive_engine::policy::MemberProfile;
use incentive_engine::policy::attributes::{AttributeDecl, AttributeValue, check_attributes};
use incentive_engine::policy::kept::closest;
use incentive_engine::{LabResult, MemberId, Reading};
use serde::Serialize;
use std::collections::BTreeMap;

/// What happened to a batch of readings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReadingsAdded {
    pub accepted: u64,
    /// Already on record: same member, time and source.
    pub duplicate: u64,
    /// Finger-sticks likely already on record, or twice in the batch, written by another app
    /// or by hand ([`incentive_engine::likely_duplicates`]): not stored unless asked
    /// ([`LikelyDuplicates::Keep`]), and each named here with the member it is of.
    pub likely_duplicates: Vec<(MemberId, LikelyDuplicate)>,
}

/// What to do with a finger-stick that likely repeats one on record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LikelyDuplicates {
    /// Report it and store it not: the default, so one test is never counted twice.
    SetApart,
    /// Report it and store it too: the sender has checked they are two tests.
    Keep,
}

/// What happened to a bulk upload's readings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BulkReadingsAdded {
    /// Readings of enrolled members: stored, or already on record.
    pub added: ReadingsAdded,
    /// Members not enrolled with the tenant, and how many readings of each were not stored.
    pub not_enrolled: Vec<(MemberId, u64)>,
}

impl Store {
    /// The language a member reads, where the tenant's policies declare a `locale` attribute
    /// and the member has one: what their decisions are shown in unless a reader asks for
    /// another. `None` for a member not enrolled.
    pub async fn member_locale(
        &self,
        tenant: &str,
        member: &str,
    ) -> Result<Option<String>, StoreError> {
        let attributes: Option<Option<String>> = crate::db::on_pool!(&self.shared.pool, p => {
            sqlx::query_scalar("SELECT attributes FROM members WHERE tenant = $1 AND member_id = $2")
                .bind(tenant)
                .bind(member)
                .fetch_optional(p)
                .await?
        });
        let Some(Some(json)) = attributes else {
            return Ok(None);
        };
        let attributes: std::collections::BTreeMap<String, AttributeValue> =
            serde_json::from_str(&json).map_err(|e| {
                StoreError::Corrupt(format!(
                    "member `{member}`'s stored attributes are unreadable: {e}"
                ))
            })?;
        Ok(match attributes.get("locale") {
            Some(AttributeValue::Text(t)) => Some(t.clone()),
            _ => None,
        })
    }

    /// Enrols a member or updates the attributes on record.
    pub async fn upsert_member(
        &self,
        tenant: &str,
        profile: &MemberProfile,
    ) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        let attributes = if profile.attributes.is_empty() {
            None
        } else {
            self.check_declared(tenant, &profile.attributes).await?;
            Some(
                serde_json::to_string(&profile.attributes)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )
        };
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        on_tx!(&mut tx, c => {
            sqlx::query(
                "INSERT INTO members (tenant, member_id, age, sex, region, diabetes_type, insulin, enrolled_on, updated_at, attributes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (tenant, member_id) DO UPDATE SET age = excluded.age, sex = excluded.sex, \
                 region = excluded.region, diabetes_type = excluded.diabetes_type, insulin = excluded.insulin, \
                 enrolled_on = excluded.enrolled_on, updated_at = excluded.updated_at, attributes = excluded.attributes",
            )
            .bind(tenant)
            .bind(profile.id.as_str())
            .bind(profile.age.map(i64::from))
            .bind(&profile.sex)
            .bind(&profile.region)
            .bind(&profile.diabetes_type)
            .bind(profile.insulin)
            .bind(profile.enrolled_on.map(|d| d.to_string()))
            .bind(at)
            .bind(&attributes)
            .execute(&mut *c)
            .await?;
            // The member's groups are their text attributes: replaced with them.
            sqlx::query("DELETE FROM member_groups WHERE tenant = $1 AND member_id = $2")
                .bind(tenant)
                .bind(profile.id.as_str())
                .execute(&mut *c)
                .await?;
            for (name, value) in &profile.attributes {
                if let AttributeValue::Text(value) = value {
                    sqlx::query("INSERT INTO member_groups (tenant, attribute, value, member_id) VALUES ($1, $2, $3, $4)")
                        .bind(tenant)
                        .bind(name)
                        .bind(value)
                        .bind(profile.id.as_str())
                        .execute(&mut *c)
                        .await?;
                }
            }
        });
        tx.commit().await?;
        Ok(())
    }

    /// Whether each attribute a member is sent with is one a published policy of the tenant
    /// declares, of the kind it declares: an attribute no policy reads is a typo or data that
    /// has no business here, and one of the wrong kind would fail the member's next payout.
    async fn check_declared(
        &self,
        tenant: &str,
        attributes: &BTreeMap<String, AttributeValue>,
    ) -> Result<(), StoreError> {
        let bad = |reason: String| StoreError::BadInput {
            field: "attributes".into(),
            reason,
        };
        check_attributes(attributes).map_err(bad)?;
        let mut tx = self.shared.pool.begin_read().await?;
        let published: Vec<(String, String)> = on_tx!(&mut tx, c => {
            sqlx::query_as(
                "SELECT policy_id, version FROM policy_versions WHERE tenant = $1 AND status = 'published' ORDER BY policy_id, version",
            )
            .bind(tenant)
            .fetch_all(c)
            .await?
        });
        let mut declared: Vec<(String, AttributeDecl)> = Vec::new();
        for (policy_id, version) in &published {
            let policy =
                crate::policies::compiled_policy(&self.shared, &mut tx, tenant, policy_id, version)
                    .await?;
            for d in policy.manifest.attributes.0.iter() {
                declared.push((format!("{policy_id} {version}"), d.clone()));
            }
        }
        tx.commit().await?;
        for (name, value) in attributes {
            let mine: Vec<&(String, AttributeDecl)> =
                declared.iter().filter(|(_, d)| &d.name == name).collect();
            if mine.is_empty() {
                let names = declared.iter().map(|(_, d)| d.name.as_str());
                let hint = closest(name, names)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                return Err(bad(format!(
                    "`{name}` is not an attribute any published policy of this tenant declares{hint}"
                )));
            }
            for (policy, d) in mine {
                d.kind.check(value).map_err(|why| {
                    bad(format!("`{name}`: {why}, as policy {policy} declares it"))
                })?;
            }
        }
        Ok(())
    }

    /// Stores the readings of many members in one transaction, as a bulk upload needs: the
    /// members are checked in one query, the readings of those enrolled are written with
    /// multi-row inserts, and those of members not enrolled are counted, not stored.
    pub async fn add_readings_many(
        &self,
        tenant: &str,
        members: &[(MemberId, Vec<Reading>)],
    ) -> Result<BulkReadingsAdded, StoreError> {
        self.add_readings_many_with(tenant, members, LikelyDuplicates::SetApart)
            .await
    }

    /// [`Store::add_readings_many`], saying what to do with likely duplicates.
    pub async fn add_readings_many_with(
        &self,
        tenant: &str,
        members: &[(MemberId, Vec<Reading>)],
        likely: LikelyDuplicates,
    ) -> Result<BulkReadingsAdded, StoreError> {
        let mut upload = self.bulk_readings(tenant, likely);
        upload.add(members).await?;
        upload.commit().await
    }

    /// Stores a member's readings; those already on record are counted, not stored twice.
    pub async fn add_readings(
        &self,
        tenant: &str,
        member: &MemberId,
        readings: impl IntoIterator<Item = Reading>,
    ) -> Result<ReadingsAdded, StoreError> {
        self.add_readings_with(tenant, member, readings, LikelyDuplicates::SetApart)
            .await
    }

    /// [`Store::add_readings`], saying what to do with likely duplicates.
    pub async fn add_readings_with(
        &self,
        tenant: &str,
        member: &MemberId,
        readings: impl IntoIterator<Item = Reading>,
        likely: LikelyDuplicates,
    ) -> Result<ReadingsAdded, StoreError> {
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        require_member(&mut tx, tenant, member.as_str()).await?;
        let readings: Vec<Reading> = readings.into_iter().collect();
        let found = likely_duplicates_of(&mut tx, tenant, &[(member, readings.as_slice())])
            .await?
            .pop()
            .unwrap_or_default();
        let skip = skipped(&found, likely);
        let rows: Vec<_> = readings
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, r)| ReadingRow::of(member.as_str(), r))
            .collect();
        let accepted = insert_readings(&mut tx, tenant, &rows, at).await?;
        tx.commit().await?;
        let total = u64::try_from(rows.len()).unwrap_or(u64::MAX);
        Ok(ReadingsAdded {
            accepted,
            duplicate: total - accepted,
            likely_duplicates: found.into_iter().map(|d| (member.clone(), d)).collect(),
        })
    }

    /// Stores a member's HbA1c results; one already on record for the same time is kept.
    pub async fn add_labs(
        &self,
        tenant: &str,
        member: &MemberId,
        labs: &[LabResult],
    ) -> Result<ReadingsAdded, StoreError> {
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        require_member(&mut tx, tenant, member.as_str()).await?;
        let mut added = ReadingsAdded::default();
        for lab in labs {
            let n = on_tx!(&mut tx, c => {
                sqlx::query(
                    "INSERT INTO labs (tenant, member_id, time_ms, offset_s, hba1c, received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(tenant)
                .bind(member.as_str())
                .bind(lab.time.timestamp_millis())
                .bind(lab.time.offset().local_minus_utc())
                .bind(Money(lab.hba1c.percent()))
                .bind(at)
                .execute(c)
                .await?
                .rows_affected()
            });
            if n == 1 {
                added.accepted += 1;
            } else {
                added.duplicate += 1;
            }
        }
        tx.commit().await?;
        Ok(added)
    }
}

/// Rows of readings one statement inserts: seven bound values each (the tenant and the time
/// received are bound once a statement), under SQLite's limit of 32,766 bound values. Every
/// full statement has the same text, so it is prepared once and cached.
const READING_ROWS_PER_STATEMENT: usize = 4_000;

/// Inserts readings, those on record already skipped; returns how many were new.
/// Members whose readings on record are read at once to look for likely duplicates: one read
/// for many members (a bulk upload of ten thousand is forty reads, not ten thousand), and a
/// bound on what is held (each member's readings in the window of their finger-sticks sent).
const LIKELY_DUPLICATE_MEMBERS_PER_READ: usize = 256;

/// Of each member's `readings`, the finger-sticks likely repeating one on record or an earlier
/// one of the batch, in the batch's order. The readings on record within the window of the
/// finger-sticks sent are read [`LIKELY_DUPLICATE_MEMBERS_PER_READ`] members at a time, and none
/// for members who send no finger-stick (a sensor's upload costs nothing here).
pub(crate) async fn likely_duplicates_of(
    tx: &mut Tx,
    tenant: &str,
    batch: &[(&MemberId, &[Reading])],
) -> Result<Vec<Vec<LikelyDuplicate>>, StoreError> {
    use incentive_engine::likely_duplicates::{LIKELY_DUPLICATE_WINDOW_MINUTES, likely_duplicates};
    let window_ms = LIKELY_DUPLICATE_WINDOW_MINUTES * 60_000;
    let mut found = Vec::with_capacity(batch.len());
    for chunk in batch.chunks(LIKELY_DUPLICATE_MEMBERS_PER_READ) {
        let mut ids = Vec::new();
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for (member, readings) in chunk {
            let times = readings
                .iter()
                .filter(|r| r.source != incentive_engine::Source::Cgm)
                .map(|r| r.time.timestamp_millis());
            if let (Some(lo), Some(hi)) = (times.clone().min(), times.max()) {
                ids.push(member.as_str());
                first = first.min(lo);
                last = last.max(hi);
            }
        }
        if ids.is_empty() {
            found.extend(chunk.iter().map(|_| Vec::new()));
            continue;
        }
        let stored = crate::member_records::load_readings(
            tx,
            tenant,
            &ids,
            first.saturating_sub(window_ms),
            last.saturating_add(window_ms + 1),
        )
        .await?;
        for (member, readings) in chunk {
            let on_record = stored
                .get(member.as_str())
                .into_iter()
                .flatten()
                .map(crate::inputs::to_engine)
                .collect::<Result<Vec<_>, _>>()?;
            found.push(likely_duplicates(&on_record, readings));
        }
    }
    Ok(found)
}

/// The positions not to store.
pub(crate) fn skipped(
    found: &[LikelyDuplicate],
    likely: LikelyDuplicates,
) -> std::collections::HashSet<usize> {
    match likely {
        LikelyDuplicates::SetApart => found.iter().map(|d| d.index).collect(),
        LikelyDuplicates::Keep => std::collections::HashSet::new(),
    }
}

pub(crate) async fn insert_readings<'r>(
    tx: &mut Tx,
    tenant: &'r str,
    rows: &'r [ReadingRow<'r>],
    at: Instant,
) -> Result<u64, StoreError> {
    let mut chunks = rows.chunks(READING_ROWS_PER_STATEMENT);
    let Some(first) = chunks.next() else {
        return Ok(0);
    };
    let mut accepted = 0;
    on_tx!(&mut *tx, c, Db => {
        // The rows as a VALUES list of what differs between them; the tenant and the time
        // received are the statement's, bound once rather than once a row. (Both SQLite and
        // PostgreSQL name a VALUES list's columns column1, column2, …; `WHERE true` tells
        // SQLite's parser the ON CONFLICT belongs to the INSERT.)
        let statement = |chunk: &'r [ReadingRow<'r>]| {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO readings (tenant, member_id, time_ms, source, offset_s, mg_dl, flag, context, received_at) SELECT ",
            );
            q.push_bind(tenant);
            q.push(", v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, ");
            q.push_bind(at);
            q.push(" FROM (");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.member)
                    .push_bind(r.t)
                    .push_bind(r.s)
                    .push_bind(r.o)
                    .push_bind(r.v)
                    .push_bind(r.f)
                    .push_bind(r.c);
            });
            q.push(") AS v WHERE true ON CONFLICT DO NOTHING");
            (q, chunk.len() == READING_ROWS_PER_STATEMENT)
        };
        let (mut q, mut full) = statement(first);
        for next in chunks {
            // The next statement is built here while the database runs this one (on SQLite,
            // the connection's own thread): binding a statement's 28,000 values is about a
            // third of an upload's time, and it need not wait its turn. `biased` sends this
            // statement before the next is built.
            let (done, built) = tokio::join!(
                biased;
                q.build().persistent(full).execute(&mut *c),
                async { statement(next) },
            );
            accepted += done?.rows_affected();
            (q, full) = built;
        }
        accepted += q.build().persistent(full).execute(&mut *c).await?.rows_affected();
    });
    Ok(accepted)
}

/// Which of `members` are enrolled with `tenant`.
pub(crate) async fn enrolled_among(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut out = std::collections::HashSet::new();
    let keep = tx.keeps_prepared();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let found: Vec<String> = on_tx!(&mut *tx, c, Db => {
            let mut q = Db::select_by_keys("SELECT member_id FROM members", tenant, "member_id", chunk);
            Db::end_by_keys(&mut q);
            q.build_query_scalar().persistent(keep).fetch_all(&mut *c).await?
        });
        out.extend(found);
    }
    Ok(out)
}

pub(crate) async fn require_member(
    tx: &mut Tx,
    tenant: &str,
    member: &str,
) -> Result<(), StoreError> {
    let found: Option<String> = on_tx!(tx, c => {
        sqlx::query_scalar("SELECT member_id FROM members WHERE tenant = $1 AND member_id = $2")
            .bind(tenant)
            .bind(member)
            .fetch_optional(c)
            .await?
    });
    found.map(|_| ()).ok_or_else(|| StoreError::UnknownMember {
        tenant: tenant.to_owned(),
        member: member.to_owned(),
    })
}
