//! The walk's checks on chains built here, each entry hashed as a writer would hash it — so
//! a forged entry that hashes right must still be caught by what it says.

use super::{ChainWalk, ReadEntry, RecordedDecision};
use crate::ledger::{Entry, EntryKind, Posting, entry_hash, genesis_hash};
use crate::verify::Problem;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

const TENANT: &str = "clinic-a";

fn policies() -> HashMap<(String, String), String> {
    HashMap::from([(
        ("plan".to_owned(), "1.0.0".to_owned()),
        "policy-hash".to_owned(),
    )])
}

fn posting(account: &str, cents: i64) -> Posting {
    Posting {
        account: account.to_owned(),
        currency: "CNY".to_owned(),
        amount: Decimal::new(cents, 2),
    }
}

/// A payout of 5.00 from the pool to member `m{seq}`, after `prev_hash`.
fn payout(seq: i64, prev_hash: &str) -> Entry {
    Entry {
        tenant: TENANT.to_owned(),
        seq,
        prev_hash: prev_hash.to_owned(),
        created_at: "2026-01-31T00:00:00.000000Z".to_owned(),
        kind: EntryKind::Payout.as_str().to_owned(),
        decision_id: None,
        decision_hash: None,
        policy_id: "plan".to_owned(),
        policy_version: "1.0.0".to_owned(),
        policy_hash: "policy-hash".to_owned(),
        reverses: None,
        memo: String::new(),
        postings: vec![posting("pool", -500), posting(&format!("m{seq}"), 500)],
    }
}

/// An entry stored as written: with the hash of its contents.
fn sealed(entry: Entry) -> ReadEntry {
    ReadEntry {
        hash: entry_hash(&entry),
        entry,
        lines_in_order: true,
    }
}

/// `n` payouts, chained.
fn chain(n: i64) -> Vec<Entry> {
    let mut prev = genesis_hash(TENANT);
    (1..=n)
        .map(|seq| {
            let e = payout(seq, &prev);
            prev = entry_hash(&e);
            e
        })
        .collect()
}

/// Walks `entries` with `decisions` on record; the first problem, and the walk's end.
fn walk(
    entries: Vec<ReadEntry>,
    decisions: &BTreeMap<String, RecordedDecision>,
) -> (Option<Problem>, i64, String) {
    let policies = policies();
    let mut w = ChainWalk::new(TENANT, decisions, &policies);
    let mut first = None;
    for e in entries {
        if let Some(p) = w.step(e)
            && first.is_none()
        {
            first = Some(p);
        }
    }
    (first, w.next_seq, w.prev_hash)
}

fn message(p: Option<Problem>) -> (Option<i64>, String) {
    p.map_or((None, String::new()), |p| (p.seq, p.message))
}

#[test]
fn an_untouched_chain_is_walked_to_its_end_with_the_sum_of_its_postings() {
    let entries = chain(3);
    let last = entry_hash(&entries[2]);
    let policies = policies();
    let decisions = BTreeMap::new();
    let mut w = ChainWalk::new(TENANT, &decisions, &policies);
    for e in entries {
        assert!(w.step(sealed(e)).is_none());
    }
    assert_eq!((w.next_seq, w.prev_hash), (4, last));
    let pool = &w.balances[&("pool".to_owned(), "CNY".to_owned())];
    assert_eq!(*pool, Decimal::new(-1500, 2));
    assert_eq!(
        w.first_entry_of_policy[&("plan".to_owned(), "1.0.0".to_owned())],
        1
    );
}

#[test]
fn entries_gone_from_the_middle_are_named_as_a_range() {
    let entries: Vec<_> = chain(4).into_iter().map(sealed).collect();
    let kept = entries
        .into_iter()
        .filter(|e| ![2, 3].contains(&e.entry.seq));
    let (problem, _, _) = walk(kept.collect(), &BTreeMap::new());
    assert_eq!(
        message(problem),
        (
            Some(4),
            "entries 2 to 3 are missing: the sequence jumps to 4".to_owned()
        )
    );
}

#[test]
fn an_entry_read_twice_is_out_of_order_and_the_walk_stays_before_it() {
    let mut entries: Vec<_> = chain(2).into_iter().map(sealed).collect();
    entries.push(sealed(chain(2).remove(1)));
    let (problem, next, _) = walk(entries, &BTreeMap::new());
    assert_eq!(
        message(problem),
        (
            Some(2),
            "entry 2 is out of order: entry 3 was expected".to_owned()
        )
    );
    assert_eq!(next, 3);
}

#[test]
fn an_entry_rewritten_with_a_fresh_hash_breaks_the_link_from_the_next() {
    let mut entries = chain(3);
    entries[1].postings = vec![posting("pool", -50_000), posting("m2", 50_000)];
    let (problem, _, _) = walk(entries.into_iter().map(sealed).collect(), &BTreeMap::new());
    let (seq, text) = message(problem);
    assert_eq!(seq, Some(3));
    assert!(
        text.starts_with("entry 3 does not follow entry 2: it names "),
        "{text}"
    );
}

#[test]
fn an_entry_whose_contents_changed_under_its_hash_is_altered() {
    let mut stored: Vec<_> = chain(2).into_iter().map(sealed).collect();
    stored[1].entry.memo = "edited".to_owned();
    let (seq, text) = message(walk(stored, &BTreeMap::new()).0);
    assert_eq!(seq, Some(2));
    assert!(
        text.starts_with("entry 2 has been altered: its contents hash to "),
        "{text}"
    );
}

#[test]
fn postings_whose_lines_do_not_run_in_order_are_a_posting_missing_or_added() {
    let mut stored = sealed(chain(1).remove(0));
    stored.lines_in_order = false;
    assert_eq!(
        message(walk(vec![stored], &BTreeMap::new()).0),
        (Some(1), "entry 1 has a posting missing or added".to_owned())
    );
}

#[test]
fn an_unbalanced_entry_hashed_as_written_is_named_and_walked_past() {
    let mut entry = chain(1).remove(0);
    entry.postings.pop();
    let hash = entry_hash(&entry);
    let (problem, next, end) = walk(vec![sealed(entry)], &BTreeMap::new());
    assert_eq!(
        message(problem),
        (Some(1), "entry 1 does not balance".to_owned())
    );
    assert_eq!(
        (next, end),
        (2, hash),
        "the head reported is where the entries end"
    );
}

#[test]
fn an_entry_naming_a_policy_hash_not_on_record_is_named() {
    let mut entry = chain(1).remove(0);
    entry.policy_hash = "another".to_owned();
    assert_eq!(
        message(walk(vec![sealed(entry)], &BTreeMap::new()).0),
        (
            Some(1),
            "entry 1 names policy `plan` version 1.0.0 with hash another, which is not the version on record"
                .to_owned()
        )
    );
}

/// Entry 1 a payout of decision `d1`, entry 2 its reversal pointing at `reverses`.
fn payout_and_reversal(reverses: Option<i64>) -> Vec<ReadEntry> {
    let mut first = payout(1, &genesis_hash(TENANT));
    first.decision_id = Some("d1".to_owned());
    first.decision_hash = Some("dh".to_owned());
    let mut second = payout(2, &entry_hash(&first));
    second.kind = EntryKind::Reversal.as_str().to_owned();
    second.decision_id = first.decision_id.clone();
    second.decision_hash = first.decision_hash.clone();
    second.reverses = reverses;
    vec![sealed(first), sealed(second)]
}

fn d1_in_entry(seq: i64, body_hash: &str) -> BTreeMap<String, RecordedDecision> {
    BTreeMap::from([(
        "d1".to_owned(),
        RecordedDecision {
            hash: "dh".to_owned(),
            body_hash: body_hash.to_owned(),
            seq,
        },
    )])
}

#[test]
fn a_reversal_pointing_at_its_decisions_entry_passes_and_is_kept_for_the_checks_after() {
    let decisions = d1_in_entry(1, "dh");
    let policies = policies();
    let mut w = ChainWalk::new(TENANT, &decisions, &policies);
    for e in payout_and_reversal(Some(1)) {
        assert!(w.step(e).is_none());
    }
    assert_eq!(w.reversals, vec![(2, 1, "d1".to_owned())]);
    assert!(w.seen_decisions.contains("d1"));
}

#[test]
fn a_reversal_pointing_elsewhere_is_named_with_both_entries() {
    let (seq, text) = message(walk(payout_and_reversal(None), &d1_in_entry(1, "dh")).0);
    assert_eq!(seq, Some(2));
    assert_eq!(
        text,
        "entry 2 reverses decision `d1` but points at entry none, not its entry 1"
    );
}

#[test]
fn a_decision_whose_body_no_longer_hashes_to_its_record_is_altered() {
    let (seq, text) = message(walk(payout_and_reversal(Some(1)), &d1_in_entry(1, "other")).0);
    assert_eq!(seq, Some(1));
    assert_eq!(
        text,
        "decision `d1` of entry 1 has been altered: it hashes to other, the entry says dh"
    );
}

#[test]
fn a_decision_that_says_it_is_in_another_entry_is_named() {
    let (seq, text) = message(walk(payout_and_reversal(Some(1)), &d1_in_entry(7, "dh")).0);
    assert_eq!(seq, Some(1));
    assert_eq!(text, "decision `d1` says it is in entry 7, not 1");
}

#[test]
fn a_decision_missing_from_the_record_is_named_by_its_entry() {
    let (seq, text) = message(walk(payout_and_reversal(Some(1)), &BTreeMap::new()).0);
    assert_eq!(seq, Some(1));
    assert_eq!(text, "entry 1 names decision `d1`, which is missing");
}
