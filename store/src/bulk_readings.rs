//! A bulk upload of many members' readings, stored in one transaction and handed over in
//! batches: a reader can hand over each member as soon as it has read all of them, so the
//! database writes one batch while the next is read (`POST /v1/readings` does). The outcome
//! does not depend on how the members are split into batches, as long as each member is in
//! one: every step below — enrolment, likely duplicates, the readings on record, the
//! duplicates the database refuses — looks at one member's readings at a time.

use crate::db::{Instant, Tx};
use crate::error::StoreError;
use crate::inputs::ReadingRow;
use crate::members::{
    BulkReadingsAdded, LikelyDuplicates, enrolled_among, insert_readings, likely_duplicates_of,
    skipped,
};
use crate::{Shared, Store};
use incentive_engine::{MemberId, Reading};
use std::sync::Arc;

/// A bulk upload under way: nothing of it is stored until [`BulkReadings::commit`]; dropped
/// before that, all of it is rolled back.
pub struct BulkReadings {
    shared: Arc<Shared>,
    tenant: String,
    likely: LikelyDuplicates,
    /// The time received, one for the whole upload.
    at: Instant,
    /// Begun with the first batch: on SQLite the transaction holds the one write lock, which
    /// an upload still being read has no need of.
    tx: Option<Tx>,
    added: BulkReadingsAdded,
    set_apart: u64,
}

impl std::fmt::Debug for BulkReadings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the readings' outcome: it names members.
        f.debug_struct("BulkReadings")
            .field("tenant", &self.tenant)
            .field("begun", &self.tx.is_some())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Starts a bulk upload of `tenant`'s readings; nothing touches the database until the
    /// first batch.
    pub fn bulk_readings(&self, tenant: &str, likely: LikelyDuplicates) -> BulkReadings {
        BulkReadings {
            shared: Arc::clone(&self.shared),
            tenant: tenant.to_owned(),
            likely,
            at: self.shared.now(),
            tx: None,
            added: BulkReadingsAdded::default(),
            set_apart: 0,
        }
    }
}

impl BulkReadings {
    /// Adds a batch of members' readings: the members are checked in one query, the readings
    /// of those enrolled are written with multi-row inserts (PostgreSQL: binary `COPY`), and
    /// those of members not enrolled are counted, not stored. A member must be in one batch
    /// only: across batches, its readings would be checked for likely duplicates against the
    /// earlier batch's as readings on record rather than within the upload.
    pub async fn add(&mut self, members: &[(MemberId, Vec<Reading>)]) -> Result<(), StoreError> {
        let tx = match &mut self.tx {
            Some(tx) => tx,
            None => self.tx.insert(self.shared.pool.begin().await?),
        };
        let tenant = self.tenant.as_str();
        let ids: Vec<&str> = members.iter().map(|(m, _)| m.as_str()).collect();
        let enrolled = enrolled_among(tx, tenant, &ids).await?;
        let mut rows = Vec::with_capacity(members.iter().map(|(_, r)| r.len()).sum());
        let batch: Vec<(&MemberId, &[Reading])> = members
            .iter()
            .filter(|(m, _)| enrolled.contains(m.as_str()))
            .map(|(m, r)| (m, r.as_slice()))
            .collect();
        let mut likely_found = likely_duplicates_of(tx, tenant, &batch).await?.into_iter();
        for (member, readings) in members {
            if enrolled.contains(member.as_str()) {
                // The batch holds the enrolled members in this order: one finding each.
                let found = likely_found.next().unwrap_or_default();
                let skip = skipped(&found, self.likely);
                self.set_apart += skip.len() as u64;
                rows.extend(
                    readings
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !skip.contains(i))
                        .map(|(_, r)| ReadingRow::of(member.as_str(), r)),
                );
                self.added
                    .added
                    .likely_duplicates
                    .extend(found.into_iter().map(|d| (member.clone(), d)));
            } else {
                let n = u64::try_from(readings.len()).unwrap_or(u64::MAX);
                self.added.not_enrolled.push((member.clone(), n));
            }
        }
        let accepted = match tx {
            Tx::Postgres(t) => {
                crate::readings_copy::copy_readings(t, tenant, &rows, self.at).await?
            }
            Tx::Sqlite(_) => insert_readings(tx, tenant, &rows, self.at).await?,
        };
        let total = u64::try_from(rows.len()).unwrap_or(u64::MAX);
        self.added.added.accepted += accepted;
        self.added.added.duplicate += total - accepted;
        Ok(())
    }

    /// Stores nothing of the batches added, and lets go of the database at once.
    pub async fn roll_back(self) -> Result<(), StoreError> {
        if let Some(tx) = self.tx {
            tx.rollback().await?;
        }
        Ok(())
    }

    /// Commits every batch added, and says what happened to them, in the order they were
    /// added.
    pub async fn commit(self) -> Result<BulkReadingsAdded, StoreError> {
        if let Some(tx) = self.tx {
            tx.commit().await?;
        }
        debug_assert!(
            self.likely == LikelyDuplicates::Keep
                || self.set_apart == self.added.added.likely_duplicates.len() as u64
        );
        Ok(self.added)
    }
}
