//! The walk along one tenant's chain, entry by entry, with no I/O: each entry continues the
//! sequence, names the hash of the one before, hashes to what it records, has its postings
//! in order and balanced, names a policy version on record, and names a decision that exists
//! and hashes to what the entry says. What the walk gathers on the way (balances, decisions
//! seen, reversals, where each policy version first appears) is what the checks after it
//! compare with the rest of the database.

use super::Problem;
use crate::ledger::{Entry, EntryKind, entry_hash, genesis_hash, is_balanced};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An entry as read back: its contents, the hash it records, and whether its postings'
/// line numbers run 0, 1, 2 … without a gap.
pub(super) struct ReadEntry {
    pub(super) entry: Entry,
    pub(super) hash: String,
    pub(super) lines_in_order: bool,
}

/// A decision on record: the hash it records, the hash of its body, and the entry it says
/// it is in.
pub(super) struct RecordedDecision {
    pub(super) hash: String,
    pub(super) body_hash: String,
    pub(super) seq: i64,
}

/// A reversal entry found on the walk: its seq, the seq of the entry whose decision it
/// reverses, and that decision.
pub(super) type ReversalEntry = (i64, i64, String);

pub(super) struct ChainWalk<'r> {
    decisions: &'r BTreeMap<String, RecordedDecision>,
    /// (policy, version) → the content hash on record.
    policies: &'r HashMap<(String, String), String>,
    /// The seq the next entry must have, and the hash it must name as the one before.
    pub(super) next_seq: i64,
    pub(super) prev_hash: String,
    /// (account, currency) → the sum of the postings walked.
    pub(super) balances: BTreeMap<(String, String), Decimal>,
    pub(super) seen_decisions: HashSet<String>,
    pub(super) first_entry_of_policy: HashMap<(String, String), i64>,
    pub(super) reversals: Vec<ReversalEntry>,
}

impl<'r> ChainWalk<'r> {
    pub(super) fn new(
        tenant: &str,
        decisions: &'r BTreeMap<String, RecordedDecision>,
        policies: &'r HashMap<(String, String), String>,
    ) -> Self {
        ChainWalk {
            decisions,
            policies,
            next_seq: 1,
            prev_hash: genesis_hash(tenant),
            balances: BTreeMap::new(),
            seen_decisions: HashSet::new(),
            first_entry_of_policy: HashMap::new(),
            reversals: Vec::new(),
        }
    }

    /// Checks the next entry and walks past it; the problem in it, if any. An entry out of
    /// sequence is not walked past; any other is, so that the head reported is where the
    /// entries end even when one of them is wrong.
    pub(super) fn step(&mut self, stored: ReadEntry) -> Option<Problem> {
        let seq = stored.entry.seq;
        if seq != self.next_seq {
            return Some(Problem {
                seq: Some(seq),
                message: out_of_sequence(self.next_seq, seq),
            });
        }
        let actual = entry_hash(&stored.entry);
        let problem = self.check(&stored, &actual);
        let e = &stored.entry;
        self.first_entry_of_policy
            .entry((e.policy_id.clone(), e.policy_version.clone()))
            .or_insert(seq);
        for p in &e.postings {
            *self
                .balances
                .entry((p.account.clone(), p.currency.clone()))
                .or_default() += p.amount;
        }
        self.prev_hash = actual;
        self.next_seq = seq + 1;
        problem.map(|message| Problem {
            seq: Some(seq),
            message,
        })
    }

    /// The first thing wrong with an entry in sequence, `actual` being what it hashes to.
    fn check(&mut self, stored: &ReadEntry, actual: &str) -> Option<String> {
        let e = &stored.entry;
        let seq = e.seq;
        if e.prev_hash != self.prev_hash {
            Some(format!(
                "entry {seq} does not follow entry {}: it names {} as the hash before it, but that entry hashes to {}",
                seq - 1,
                e.prev_hash,
                self.prev_hash
            ))
        } else if actual != stored.hash {
            Some(format!(
                "entry {seq} has been altered: its contents hash to {actual}, not the {} it records",
                stored.hash
            ))
        } else if !stored.lines_in_order {
            Some(format!("entry {seq} has a posting missing or added"))
        } else if !is_balanced(&e.postings) {
            Some(format!("entry {seq} does not balance"))
        } else if self
            .policies
            .get(&(e.policy_id.clone(), e.policy_version.clone()))
            != Some(&e.policy_hash)
        {
            Some(format!(
                "entry {seq} names policy `{}` version {} with hash {}, which is not the version on record",
                e.policy_id, e.policy_version, e.policy_hash
            ))
        } else if let Some(id) = &e.decision_id {
            self.check_decision(e, id)
        } else {
            None
        }
    }

    /// What is wrong with the decision entry `e` names, if anything; notes it as seen, and a
    /// reversal for the checks after the walk.
    fn check_decision(&mut self, e: &Entry, id: &str) -> Option<String> {
        let seq = e.seq;
        let Some(d) = self.decisions.get(id) else {
            return Some(format!(
                "entry {seq} names decision `{id}`, which is missing"
            ));
        };
        self.seen_decisions.insert(id.to_owned());
        if Some(&d.hash) != e.decision_hash.as_ref() || d.hash != d.body_hash {
            Some(format!(
                "decision `{id}` of entry {seq} has been altered: it hashes to {}, the entry says {}",
                d.body_hash,
                e.decision_hash.as_deref().unwrap_or("nothing")
            ))
        } else if e.kind == EntryKind::Reversal.as_str() {
            self.reversals.push((seq, d.seq, id.to_owned()));
            (e.reverses != Some(d.seq)).then(|| {
                format!(
                    "entry {seq} reverses decision `{id}` but points at entry {}, not its entry {}",
                    e.reverses
                        .map_or_else(|| "none".to_owned(), |r| r.to_string()),
                    d.seq
                )
            })
        } else if d.seq != seq {
            Some(format!(
                "decision `{id}` says it is in entry {}, not {seq}",
                d.seq
            ))
        } else {
            None
        }
    }
}

/// Why entry `seq` is not the `expected` one.
fn out_of_sequence(expected: i64, seq: i64) -> String {
    if seq == expected + 1 {
        format!("entry {expected} is missing: the sequence jumps to {seq}")
    } else if seq > expected {
        format!(
            "entries {expected} to {} are missing: the sequence jumps to {seq}",
            seq - 1
        )
    } else {
        format!("entry {seq} is out of order: entry {expected} was expected")
    }
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
