//! `incentive ledger verify|replay|export|checkpoint`: the auditor's tools.

use super::operator::{block_on, open};
use crate::cli::{CheckpointArgs, ExportArgs, ReplayArgs, ReportFormat, ReverseArgs, VerifyArgs};
use anyhow::{Context as _, bail};
use incentive_store::Checkpoint;
use std::io::Write as _;

pub fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    let checkpoints = match &args.since {
        Some(path) => read_checkpoints(path)?,
        None => Vec::new(),
    };
    let report = block_on(async {
        let store = open(&args.db).await?;
        let report = store.verify(args.tenant.as_deref(), &checkpoints).await?;
        store.close().await;
        Ok(report)
    })?;
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Text => {
            for t in &report.tenants {
                match &t.problem {
                    None => println!(
                        "{}: ok — {} entries, {} decisions, {} accounts; head {} {}",
                        t.tenant, t.entries, t.decisions, t.accounts, t.head_seq, t.head_hash
                    ),
                    Some(p) => println!(
                        "{}: FAILED at {}: {}",
                        t.tenant,
                        p.seq
                            .map_or_else(|| "the ledger".to_owned(), |s| format!("entry {s}")),
                        p.message
                    ),
                }
            }
            if !checkpoints.is_empty() && report.ok() {
                println!("the ledger extends every checkpoint in the file");
            }
        }
    }
    if !report.ok() {
        bail!("the ledger does not verify");
    }
    Ok(())
}

fn read_checkpoints(path: &std::path::Path) -> anyhow::Result<Vec<Checkpoint>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read checkpoint file `{}`", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| {
                format!(
                    "{}:{}: not a checkpoint (expected {{\"tenant\", \"seq\", \"hash\"}})",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}

pub fn checkpoint(args: &CheckpointArgs) -> anyhow::Result<()> {
    let checkpoints = block_on(async {
        let store = open(&args.db).await?;
        let c = store.checkpoint(args.tenant.as_deref()).await?;
        store.close().await;
        Ok(c)
    })?;
    let mut text = String::new();
    for c in &checkpoints {
        text.push_str(&serde_json::to_string(c)?);
        text.push('\n');
    }
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

pub fn replay(args: &ReplayArgs) -> anyhow::Result<()> {
    let results = block_on(async {
        let store = open(&args.db).await?;
        let decisions = match &args.decision {
            Some(id) => vec![store.decision(&args.tenant, id).await?],
            None => store.decisions(&args.tenant, None).await?,
        };
        let mut results = Vec::with_capacity(decisions.len());
        for d in &decisions {
            results.push(store.replay(d).await?);
        }
        store.close().await;
        Ok(results)
    })?;
    use incentive_store::Replay;
    let identical = results.iter().filter(|r| r.is_identical()).count();
    let erased = results
        .iter()
        .filter(|r| matches!(r, Replay::InputsErased { .. }))
        .count();
    let bad: Vec<&Replay> = results
        .iter()
        .filter(|r| matches!(r, Replay::Differs { .. } | Replay::Failed { .. }))
        .collect();
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&results)?),
        ReportFormat::Text => {
            for r in &results {
                match r {
                    Replay::Identical { decision_id } => println!("{decision_id}: identical"),
                    Replay::InputsErased {
                        decision_id,
                        erased_at,
                    } => println!(
                        "{decision_id}: not replayed — the member's readings were erased on request at {erased_at}; the decision keeps its input hash and the metrics it used"
                    ),
                    Replay::Differs {
                        decision_id,
                        recorded,
                        replayed,
                    } => println!(
                        "{decision_id}: DIFFERS\n  on record: {recorded}\n  replayed:  {replayed}"
                    ),
                    Replay::Failed {
                        decision_id,
                        reason,
                    } => {
                        println!("{decision_id}: could not be replayed: {reason}")
                    }
                }
            }
            println!(
                "{} replayed: {identical} identical, {} not, {erased} with inputs erased",
                results.len(),
                bad.len()
            );
        }
    }
    if !bad.is_empty() {
        bail!(
            "{} decision(s) did not replay to the bytes on record",
            bad.len()
        );
    }
    Ok(())
}

pub fn export(args: &ExportArgs) -> anyhow::Result<()> {
    block_on(async {
        let store = open(&args.db).await?;
        match &args.out {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                let mut w = std::io::BufWriter::new(file);
                store.export_csv(args.tenant.as_deref(), &mut w).await?;
                w.flush()?;
            }
            None => {
                let stdout = std::io::stdout();
                store
                    .export_csv(args.tenant.as_deref(), stdout.lock())
                    .await?;
            }
        }
        store.close().await;
        Ok(())
    })
}

pub fn reverse(args: &ReverseArgs) -> anyhow::Result<()> {
    let r = block_on(async {
        let store = open(&args.db).await?;
        let r = store
            .reverse(&args.tenant, &args.decision, &args.reason, &args.by)
            .await?;
        store.close().await;
        Ok(r)
    })?;
    println!(
        "decision {} reversed by entry {} (it reversed entry {}): {} back to the pool, {} percentage points of premium adjustment undone",
        r.decision_id, r.ledger_seq, r.reverses, r.reward_reversed, r.premium_reversed
    );
    Ok(())
}
