//! Members, their readings (deduplicated on member, time and source, as the engine does) and
//! their lab results.

use crate::Store;
use crate::db::{Money, Tx, on_tx};
use crate::error::StoreError;
use crate::inputs::{StoredReading, from_engine};
use chrono::{DateTime, FixedOffset};
use incentive_engine::policy::MemberProfile;
use incentive_engine::{Hba1c, LabResult, MemberId, Reading, Window};
use serde::Serialize;
use sqlx::Row;

/// What happened to a batch of readings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReadingsAdded {
    pub accepted: u64,
    /// Already on record: same member, time and source.
    pub duplicate: u64,
}

impl Store {
    /// Enrols a member or updates the attributes on record.
    pub async fn upsert_member(
        &self,
        tenant: &str,
        profile: &MemberProfile,
    ) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        on_tx!(&mut tx, c => {
            sqlx::query(
                "INSERT INTO members (tenant, member_id, age, sex, region, diabetes_type, insulin, enrolled_on, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (tenant, member_id) DO UPDATE SET age = excluded.age, sex = excluded.sex, \
                 region = excluded.region, diabetes_type = excluded.diabetes_type, insulin = excluded.insulin, \
                 enrolled_on = excluded.enrolled_on, updated_at = excluded.updated_at",
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
            .execute(c)
            .await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// Stores a member's readings; those already on record are counted, not stored twice.
    pub async fn add_readings(
        &self,
        tenant: &str,
        member: &MemberId,
        readings: impl IntoIterator<Item = Reading>,
    ) -> Result<ReadingsAdded, StoreError> {
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        require_member(&mut tx, tenant, member.as_str()).await?;
        let mut added = ReadingsAdded::default();
        for reading in readings {
            let r = from_engine(&reading);
            let n = on_tx!(&mut tx, c => {
                sqlx::query(
                    "INSERT INTO readings (tenant, member_id, time_ms, source, offset_s, mg_dl, flag, context, received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                )
                .bind(tenant)
                .bind(member.as_str())
                .bind(r.t)
                .bind(&r.s)
                .bind(r.o)
                .bind(r.v)
                .bind(&r.f)
                .bind(&r.c)
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

type ProfileRow = (
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<String>,
);

pub(crate) async fn load_profile(
    tx: &mut Tx,
    tenant: &str,
    member: &MemberId,
) -> Result<MemberProfile, StoreError> {
    let row: Option<sqlx::Result<ProfileRow>> = on_tx!(tx, c => {
        sqlx::query(
            "SELECT age, sex, region, diabetes_type, insulin, enrolled_on FROM members WHERE tenant = $1 AND member_id = $2",
        )
        .bind(tenant)
        .bind(member.as_str())
        .fetch_optional(c)
        .await?
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?)))
    });
    let Some(row) = row else {
        return Err(StoreError::UnknownMember {
            tenant: tenant.to_owned(),
            member: member.as_str().to_owned(),
        });
    };
    let (age, sex, region, diabetes_type, insulin, enrolled_on) = row?;
    let corrupt =
        |what: &str| StoreError::Corrupt(format!("member `{}`: bad {what}", member.as_str()));
    Ok(MemberProfile {
        id: member.clone(),
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
    })
}

/// The member's readings inside the window, in the engine's stored form.
pub(crate) async fn load_readings(
    tx: &mut Tx,
    tenant: &str,
    member: &MemberId,
    window: &Window,
) -> Result<Vec<StoredReading>, StoreError> {
    let rows = on_tx!(tx, c => {
        sqlx::query(
            "SELECT time_ms, offset_s, mg_dl, flag, context, source FROM readings \
             WHERE tenant = $1 AND member_id = $2 AND time_ms >= $3 AND time_ms < $4 ORDER BY time_ms, source",
        )
        .bind(tenant)
        .bind(member.as_str())
        .bind(window.start.timestamp_millis())
        .bind(window.end.timestamp_millis())
        .fetch_all(c)
        .await?
        .into_iter()
        .map(|r| {
            Ok(StoredReading {
                t: r.try_get(0)?,
                o: r.try_get(1)?,
                v: r.try_get(2)?,
                f: r.try_get(3)?,
                c: r.try_get(4)?,
                s: r.try_get(5)?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?
    });
    Ok(rows)
}

/// The member's HbA1c results taken before `before_ms`, oldest first.
pub(crate) async fn load_labs(
    tx: &mut Tx,
    tenant: &str,
    member: &MemberId,
    before_ms: i64,
) -> Result<Vec<LabResult>, StoreError> {
    let rows: Vec<(i64, i32, Money)> = on_tx!(tx, c => {
        sqlx::query(
            "SELECT time_ms, offset_s, hba1c FROM labs WHERE tenant = $1 AND member_id = $2 AND time_ms < $3 ORDER BY time_ms",
        )
        .bind(tenant)
        .bind(member.as_str())
        .bind(before_ms)
        .fetch_all(c)
        .await?
        .into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<sqlx::Result<Vec<_>>>()?
    });
    rows.into_iter()
        .map(|(t, o, value)| {
            let corrupt =
                || StoreError::Corrupt(format!("member `{}`: a bad lab result", member.as_str()));
            let offset = FixedOffset::east_opt(o).ok_or_else(corrupt)?;
            let time: DateTime<FixedOffset> = DateTime::from_timestamp_millis(t)
                .ok_or_else(corrupt)?
                .with_timezone(&offset);
            Ok(LabResult {
                time,
                hba1c: Hba1c::from_percent(value.0).map_err(|_| corrupt())?,
            })
        })
        .collect()
}
