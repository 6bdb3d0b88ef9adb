//! What a group decided, laid over what the next group read: so the next group can be read and
//! decided while the one before it is still being written (the writer's pipeline,
//! `payout::run_lane`).
//!
//! Everything a group can change that a later group reads is behind the chain head: the head
//! itself, the balances of the accounts it moved, the decisions it posted and the keys it
//! answered (profiles, readings and labs are not written by payouts). The next group's read may
//! have been taken before the earlier group committed or after it; each overlay gives the same
//! result either way — the head and balances are replaced by the earlier group's final ones, a
//! decision already read is not added twice, a key's row is the same — so the next group is
//! decided exactly as if it had been read after the commit. It is posted only if the head is
//! then where the earlier group left it; otherwise (the earlier group was not posted as decided,
//! or another writer moved the head) it is read and decided again.

use super::{Known, Loaded};

/// Lays what `earlier` decided over what `next` read, tenant by tenant.
pub(super) fn carry_over(next: &mut Loaded, earlier: &Loaded) {
    for (tenant, e) in &earlier.data {
        let Some(n) = next.data.get_mut(tenant) else {
            continue;
        };
        n.head = e.head.clone();
        next.heads_read.insert(tenant.clone(), e.head.clone());
        for account in &e.touched {
            if let Some(balance) = e.balances.get(account) {
                n.balances.insert(account.clone(), *balance);
            }
        }
        let mut grown = std::collections::BTreeSet::new();
        for (decision, _) in &e.new_decisions {
            let key = (decision.member_id.clone(), decision.policy_id.clone());
            let known = n.decisions.entry(key.clone()).or_default();
            if known.iter().any(|k| k.decision.id == decision.id) {
                continue;
            }
            known.push(Known {
                decision: decision.clone(),
                erased: false,
                reversed: false,
            });
            grown.insert(key);
        }
        for key in &grown {
            if let Some(known) = n.decisions.get_mut(key) {
                // The order a read after the commit would give (`ORDER BY period, ordinal`).
                known.sort_by(|a, b| {
                    (a.decision.period.as_str(), a.decision.ordinal)
                        .cmp(&(b.decision.period.as_str(), b.decision.ordinal))
                });
            }
        }
        for new in &e.new_keys {
            if let Some(row) = e.keys.get(new.key.as_str()) {
                n.keys.insert(new.key.clone(), row.clone());
            }
        }
    }
}
