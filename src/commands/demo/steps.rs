//! The demo's scenes that stand alone: each role's part of the story between the platform's
//! months of readings and payouts and the actuary's pricing, each checking what it shows.

use super::client::Caller;
use super::{
    At as _, FIRST_PERIOD, MONTHS, REPLAY_SAMPLE, TENANT, bar, detail, for_each, packages, step,
};
use anyhow::bail;
use incentive_simulations::synth::Member;
use incentive_store::Store;
use incentive_store::tenants::Role;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A key for each role, each held by a person, so that publishing has its four eyes: the
/// author writes, the admin approves.
pub(super) async fn issue_keys(store: &Store) -> anyhow::Result<BTreeMap<&'static str, String>> {
    let mut keys = BTreeMap::new();
    for role in Role::ALL {
        let holder = format!("demo {}", role.as_str());
        keys.insert(
            role.as_str(),
            store
                .create_key_held(TENANT, role, Some(&holder))
                .await?
                .secret,
        );
    }
    Ok(keys)
}

/// The author stores the reference policies and a variant, the admin approves each, and the
/// author publishes it.
pub(super) async fn publish_all(author: &Caller, admin: &Caller) -> anyhow::Result<()> {
    step(
        "author",
        "stores the reference policies and a variant; the admin approves each (four eyes); the author publishes",
    );
    let mut published = Vec::new();
    for (id, files) in packages::reference()
        .into_iter()
        .chain(std::iter::once((packages::VARIANT, packages::variant()?)))
    {
        let version = author
            .post("/v1/policies", &json!({ "files": files }))
            .await?
            .body
            .at("/version")
            .as_str()
            .unwrap_or_default()
            .to_owned();
        admin
            .post(
                &format!("/v1/policies/{id}/versions/{version}/approve"),
                &json!({ "comment": "Reviewed for the demo: the reference package as shipped" }),
            )
            .await?;
        author
            .post(
                &format!("/v1/policies/{id}/versions/{version}/publish"),
                &json!({}),
            )
            .await?;
        published.push(format!("{id} {version}"));
    }
    detail(&published.join(", "));
    Ok(())
}

/// The platform enrols every member, with what a policy may read of them.
pub(super) async fn enrol_all(platform: &Caller, population: &[Member]) -> anyhow::Result<()> {
    let bar = bar(population.len() as u64, "members enrolled");
    for_each(population, |who| {
        let platform = platform.clone();
        let bar = bar.clone();
        let p = who.profile.clone();
        async move {
            platform
                .put(
                    &format!("/v1/members/{}", p.id.as_str()),
                    &json!({
                        "age": p.age, "sex": p.sex, "region": p.region,
                        "diabetes_type": p.diabetes_type, "insulin": p.insulin,
                        "enrolled_on": p.enrolled_on.map(|d| d.to_string()),
                    }),
                )
                .await?;
            bar.inc(1);
            Ok(())
        }
    })
    .await?;
    bar.finish_and_clear();
    Ok(())
}

/// A platform that did not hear the answer asks again with the same key: the same answer, and
/// nothing posted twice. Returns the member and the id of the decision on record.
pub(super) async fn retry_a_payout(
    store: &Store,
    platform: &Caller,
    population: &[Member],
) -> anyhow::Result<(String, String)> {
    let member = population
        .first()
        .map(|w| w.profile.id.as_str().to_owned())
        .unwrap_or_default();
    let body = json!({ "member_id": member, "policy_id": packages::PAID, "period": FIRST_PERIOD });
    let key = format!("demo-{member}-{FIRST_PERIOD}");
    let again = platform.post_keyed("/v1/payouts", &key, &body).await?;
    let original = store
        .decisions(TENANT, Some(&member))
        .await?
        .into_iter()
        .find(|d| d.period == FIRST_PERIOD)
        .map(|d| d.id)
        .unwrap_or_default();
    let same = again.body.at("/decision/id") == original.as_str()
        && store.decisions(TENANT, Some(&member)).await?.len() == MONTHS as usize;
    if !same {
        bail!("retrying a payout with its Idempotency-Key did not give the decision on record");
    }
    detail(&format!(
        "retried the payout of {member} for {FIRST_PERIOD} with its Idempotency-Key: the decision on record, {original}, nothing posted twice"
    ));
    Ok((member, original))
}

/// The seed market is Chinese: the app shows a member paid in the first month the same
/// decision in Chinese (else `member`'s decision `original`).
pub(super) async fn read_in_chinese(
    store: &Store,
    platform: &Caller,
    member: &str,
    original: &str,
) -> anyhow::Result<()> {
    let (reader, decision) = store
        .decisions(TENANT, None)
        .await?
        .into_iter()
        .find(|d| d.period == FIRST_PERIOD && d.policy_id == packages::PAID && !d.reward.is_zero())
        .map_or((member.to_owned(), original.to_owned()), |d| {
            (d.member_id, d.id)
        });
    step(
        "member",
        &format!(
            "{reader} reads the decision for {FIRST_PERIOD} in the app, in Chinese (?locale=zh-CN)"
        ),
    );
    let shown: Value = platform
        .get_as(&format!("/v1/decisions/{decision}?locale=zh-CN"))
        .await?;
    let view = shown.at("/shown");
    for field in ["/title", "/reward", "/premium_change", "/status", "/points"] {
        if let Some(line) = view.at(field).as_str() {
            detail(line);
        }
    }
    for line in view.at("/why").as_array().into_iter().flatten() {
        detail(&format!("· {}", line.as_str().unwrap_or_default()));
    }
    Ok(())
}

/// The auditor verifies the ledger and replays a sample of `decisions` byte for byte; returns
/// where the chain stands.
pub(super) async fn audit(auditor: &Caller, decisions: &[String]) -> anyhow::Result<(i64, String)> {
    step(
        "auditor",
        "verifies the ledger and replays a sample of decisions",
    );
    let report: Value = auditor.get_as("/v1/ledger/verify").await?;
    let tenant = &report.at("/tenants/0");
    if !tenant.at("/problem").is_null() {
        bail!("the ledger does not verify: {}", tenant.at("/problem"));
    }
    let (head_seq, head_hash) = (
        tenant.at("/head_seq").as_i64().unwrap_or_default(),
        tenant
            .at("/head_hash")
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    );
    let every = (decisions.len() / REPLAY_SAMPLE).max(1);
    let mut replayed = 0;
    for id in decisions.iter().step_by(every).take(REPLAY_SAMPLE) {
        let r = auditor
            .post(&format!("/v1/decisions/{id}/replay"), &json!({}))
            .await?;
        if r.body.at("/result") != "identical" {
            bail!("replaying {id} did not give the same bytes: {}", r.text);
        }
        replayed += 1;
    }
    detail(&format!(
        "{} entries verified, head {head_seq} {head_hash}; {replayed} decisions replayed byte for byte",
        tenant.at("/entries")
    ));
    Ok((head_seq, head_hash))
}
