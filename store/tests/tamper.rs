//! The ledger against someone with write access to the database: the database itself refuses
//! edits, and every change made around that refusal is found by `verify`, which names the
//! entry. Also checkpoints, and the same head on every backend.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::{Checkpoint, Store};

/// A ledger of four entries: the policy's publication (1), then payouts to M1, M2, M3 (2–4).
async fn three_payouts(db: &TestDb) -> Store {
    let store = store_with_plan(db, str::to_owned).await;
    for (i, id) in ["M1", "M2", "M3"].into_iter().enumerate() {
        let m = enrol(&store, id).await;
        store
            .add_readings(TENANT, &m, controlled_march(4 + u32::try_from(i).unwrap()))
            .await
            .unwrap();
        store.pay(request(&m)).await.unwrap();
    }
    let report = store.verify(None, &[]).await.unwrap();
    assert!(report.ok(), "{}: {report:?}", db.label);
    store
}

/// The first problem `verify` reports: the entry it names and its message.
async fn first_problem(store: &Store) -> (Option<i64>, String) {
    let report = store.verify(None, &[]).await.unwrap();
    let p = report.tenants[0]
        .problem
        .clone()
        .expect("verify found nothing");
    (p.seq, p.message)
}

#[tokio::test]
async fn the_database_itself_refuses_to_edit_or_delete_the_ledger_and_decisions() {
    for db in databases().await {
        let store = three_payouts(&db).await;
        for sql in [
            "UPDATE ledger_postings SET account = 'elsewhere' WHERE seq = 2",
            "DELETE FROM ledger_postings WHERE seq = 2",
            "UPDATE ledger_entries SET memo = 'x' WHERE seq = 2",
            "DELETE FROM ledger_entries WHERE seq = 4",
            "UPDATE decisions SET tier = 'gold'",
            "DELETE FROM decisions",
            "UPDATE policy_versions SET files = '{}'",
            "DELETE FROM policy_versions",
        ] {
            let err = raw(&db, sql).await.expect_err(sql).to_string();
            assert!(
                err.contains("append-only") || err.contains("immutable"),
                "{}: `{sql}` failed for another reason: {err}",
                db.label
            );
        }
        assert!(store.verify(None, &[]).await.unwrap().ok());
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn verify_names_the_entry_whose_amount_was_edited() {
    for db in databases().await {
        let store = three_payouts(&db).await;
        drop_the_guards(&db).await;
        let amount = if db.is_postgres() { "29" } else { "'29'" };
        raw(
            &db,
            &format!("UPDATE ledger_postings SET amount = {amount} WHERE seq = 3 AND line = 1"),
        )
        .await
        .unwrap();
        let (seq, message) = first_problem(&store).await;
        assert_eq!(seq, Some(3), "{}: {message}", db.label);
        assert!(message.starts_with("entry 3 has been altered"), "{message}");
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn verify_names_the_gap_a_deleted_middle_entry_leaves() {
    for db in databases().await {
        let store = three_payouts(&db).await;
        drop_the_guards(&db).await;
        raw(&db, "DELETE FROM ledger_postings WHERE seq = 2")
            .await
            .unwrap();
        raw(&db, "DELETE FROM ledger_entries WHERE seq = 2")
            .await
            .unwrap();
        let (seq, message) = first_problem(&store).await;
        assert_eq!(seq, Some(3), "{}: {message}", db.label);
        assert_eq!(message, "entry 2 is missing: the sequence jumps to 3");
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn verify_sees_a_truncated_tail_against_the_head_on_record() {
    for db in databases().await {
        let store = three_payouts(&db).await;
        drop_the_guards(&db).await;
        raw(&db, "DELETE FROM ledger_postings WHERE seq = 4")
            .await
            .unwrap();
        raw(&db, "DELETE FROM ledger_entries WHERE seq = 4")
            .await
            .unwrap();
        let (seq, message) = first_problem(&store).await;
        assert_eq!(seq, Some(4), "{}: {message}", db.label);
        assert!(
            message.starts_with("the chain head records entry 4"),
            "{message}"
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn verify_names_the_first_of_two_entries_that_were_swapped() {
    for db in databases().await {
        let store = three_payouts(&db).await;
        drop_the_guards(&db).await;
        for table in ["ledger_postings", "ledger_entries"] {
            raw(&db, &format!("UPDATE {table} SET seq = 100 WHERE seq = 2"))
                .await
                .unwrap();
            raw(&db, &format!("UPDATE {table} SET seq = 2 WHERE seq = 3"))
                .await
                .unwrap();
            raw(&db, &format!("UPDATE {table} SET seq = 3 WHERE seq = 100"))
                .await
                .unwrap();
        }
        let (seq, message) = first_problem(&store).await;
        assert_eq!(seq, Some(2), "{}: {message}", db.label);
        assert!(
            message.starts_with("entry 2 does not follow entry 1"),
            "{message}"
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn verify_names_the_publication_of_a_policy_whose_script_was_changed() {
    for db in databases().await {
        let store = three_payouts(&db).await;
        drop_the_guards(&db).await;
        raw(
            &db,
            "UPDATE policy_versions SET files = replace(files, 'rebate > 0', 'rebate >= 0')",
        )
        .await
        .unwrap();
        let (seq, message) = first_problem(&store).await;
        assert_eq!(seq, Some(1), "{}: {message}", db.label);
        assert!(
            message.starts_with("policy `tangdaifu-smbg` version 1.0.0 has been altered"),
            "{message}"
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn verify_names_the_entry_of_a_decision_that_was_changed() {
    for db in databases().await {
        let store = three_payouts(&db).await;
        drop_the_guards(&db).await;
        let n = raw(&db, "UPDATE decisions SET body = replace(body, '\"reward\":\"30.00\"', '\"reward\":\"31.00\"') WHERE ledger_seq = 3")
            .await
            .unwrap();
        assert_eq!(n, 1);
        let (seq, message) = first_problem(&store).await;
        assert_eq!(seq, Some(3), "{}: {message}", db.label);
        assert!(message.contains("of entry 3 has been altered"), "{message}");
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn verify_names_the_first_by_id_of_decisions_planted_without_an_entry() {
    for db in databases().await {
        let store = three_payouts(&db).await;
        // Copies of M1's decision under new ids, each in a period of its own; planted in an
        // order unlike their ids', so only a report that sorts them names the first.
        for (i, id) in [
            "planted-e",
            "planted-b",
            "planted-d",
            "planted-a",
            "planted-c",
        ]
        .into_iter()
        .enumerate()
        {
            let n = raw(
                &db,
                &format!(
                    "INSERT INTO decisions (id, tenant, member_id, policy_id, policy_version, period, \
                     ordinal, supersedes, input_hash, data_hash, decision_hash, body, reward, \
                     premium_adjustment_percent, reward_posted, premium_posted, qualified, tier, points, \
                     ledger_seq, created_at) \
                     SELECT '{id}', tenant, member_id, policy_id, policy_version, period, ordinal + {}, \
                     supersedes, input_hash, data_hash, decision_hash, body, reward, \
                     premium_adjustment_percent, reward_posted, premium_posted, qualified, tier, points, \
                     ledger_seq, created_at FROM decisions WHERE ledger_seq = 2 AND id NOT LIKE 'planted-%'",
                    i + 1
                ),
            )
            .await
            .unwrap();
            assert_eq!(n, 1, "{}", db.label);
        }
        let (seq, message) = first_problem(&store).await;
        assert_eq!(
            (seq, message.as_str()),
            (None, "decision `planted-a` is not in the ledger"),
            "{}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_checkpoint_kept_outside_exposes_a_ledger_rewritten_from_scratch() {
    for db in databases().await {
        let store = three_payouts(&db).await;
        let checkpoints: Vec<Checkpoint> = store.checkpoint(None).await.unwrap();
        assert_eq!(checkpoints[0].seq, 4);

        // Later payouts extend the chain: the checkpoint still holds.
        let m = enrol(&store, "M4").await;
        store
            .add_readings(TENANT, &m, controlled_march(5))
            .await
            .unwrap();
        store.pay(request(&m)).await.unwrap();
        assert!(
            store.verify(None, &checkpoints).await.unwrap().ok(),
            "{}",
            db.label
        );

        // Someone with the owner's rights empties the ledger and builds a new, consistent one.
        drop_the_guards(&db).await;
        raw(
            &db,
            "DELETE FROM ledger_postings; DELETE FROM ledger_entries; DELETE FROM decision_inputs; \
             DELETE FROM decisions; DELETE FROM account_balances; \
             UPDATE policy_versions SET status = 'draft', published_at = NULL",
        )
        .await
        .unwrap();
        raw(
            &db,
            &format!(
                "UPDATE chain_heads SET seq = 0, hash = '{}'",
                incentive_store::ledger::genesis_hash(TENANT)
            ),
        )
        .await
        .unwrap();
        store.publish_policy(TENANT, PLAN, "1.0.0").await.unwrap();
        for id in ["M3", "M2", "M1", "M4"] {
            store.pay(request(&member(id))).await.unwrap();
        }
        assert!(
            store.verify(None, &[]).await.unwrap().ok(),
            "{}: the new chain is consistent in itself",
            db.label
        );

        let report = store.verify(None, &checkpoints).await.unwrap();
        let problem = report.tenants[0]
            .problem
            .clone()
            .expect("the checkpoint must expose the rewrite");
        assert_eq!(problem.seq, Some(4), "{}", db.label);
        assert!(
            problem
                .message
                .contains("the ledger before it was rewritten"),
            "{}",
            problem.message
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_same_operations_give_the_same_chain_head_on_sqlite_and_postgresql() {
    let Some(pg) = postgres_db().await else {
        return;
    };
    let sqlite = sqlite_db().await;
    let mut heads = Vec::new();
    for db in [&sqlite, &pg] {
        let store = three_payouts(db).await;
        let m = member("M1");
        store
            .add_readings(TENANT, &m, (10..=14).map(|d| fasting(d, 9.9)))
            .await
            .unwrap();
        store.pay(request(&m)).await.unwrap();
        heads.push(store.checkpoint(None).await.unwrap());
        store.close().await;
    }
    assert_eq!(heads[0], heads[1]);
    assert_eq!(heads[0][0].seq, 5);
    pg.cleanup().await;
    sqlite.cleanup().await;
}

#[tokio::test]
async fn verify_reads_the_ledger_in_pages_and_finds_a_gap_that_falls_between_two() {
    for db in databases().await {
        three_payouts(&db).await.close().await;
        // Pages of two entries: 1–2, 3–4.
        let options = incentive_store::StoreOptions {
            verify_page_entries: 2,
            ..options()
        };
        let store = Store::open(&db.url, options).await.unwrap();
        let report = store.verify(None, &[]).await.unwrap();
        assert!(report.ok(), "{}: {report:?}", db.label);
        assert_eq!(
            (report.tenants[0].entries, report.tenants[0].head_seq),
            (4, 4)
        );
        drop_the_guards(&db).await;
        raw(&db, "DELETE FROM ledger_postings WHERE seq = 3")
            .await
            .unwrap();
        raw(&db, "DELETE FROM ledger_entries WHERE seq = 3")
            .await
            .unwrap();
        let (seq, message) = first_problem(&store).await;
        assert_eq!(seq, Some(4), "{}: {message}", db.label);
        assert_eq!(message, "entry 3 is missing: the sequence jumps to 4");
        store.close().await;
        db.cleanup().await;
    }
}
