//! A run's peak memory, estimated before it starts from its size and its population model, so
//! a server (and `incentive simulate`) refuses a run that would not fit with the figure and the
//! limit, instead of being killed by the operating system half-way through it.
//!
//! What a run holds at its peak, and what each part costs:
//!
//! - each replication in flight (one a thread at most: `run` starts them in batches of the
//!   thread count) holds one chunk of members' readings for a period — `members_per_chunk` ×
//!   the mean readings a member-period × [`BYTES_PER_READING`] — and every member's draw,
//!   labs (which grow with the months the run spans) and, for each plan, history (an outcome
//!   a period, and the metrics the plan keeps with it) and what they were paid;
//! - the whole run keeps each plan's per-member totals and each replication's small totals;
//! - each thread keeps its allocator's heap and its evaluation buffers.
//!
//! The byte figures were measured, not derived from type sizes: `examples/memory.rs` runs a
//! grid of sizes on one thread and reads the process's peak resident memory (`VmHWM`, which
//! counts what the allocator really takes, its rounding and spare capacity too), and each
//! figure is the largest cost per unit seen, rounded up; `tests/footprint.rs` holds the
//! estimate above the measured peak and within a small multiple of it.

use crate::SimError;
use crate::config::Config;
use crate::population::Population;
use incentive_engine::PeriodKind;
use incentive_engine::policy::Policy;

/// Members drawn and decided together, on every core, when their readings are few.
pub const MEMBERS_PER_CHUNK_MAX: usize = 2048;
/// Readings a chunk holds at most on average: with many readings a member (a sensor
/// programme), chunks have fewer members, so a period's readings stay near
/// `CHUNK_READINGS_MAX × BYTES_PER_READING` (about 170 MB) whatever the model. Members in a
/// chunk are decided in member order, so its size changes no result.
pub const CHUNK_READINGS_MAX: u64 = 4 * 1024 * 1024;

/// One reading held in a chunk: 22 bytes in columns (time, offset, value, context, source),
/// more while a trace's columns grow by doubling, and the allocator's share. Measured: 27–34
/// bytes a reading for 5-minute and 1-minute sensor traces, monthly and quarterly.
pub const BYTES_PER_READING: u64 = 40;
/// One member of a replication in flight, whatever the plans: their draw (profile, rates),
/// labs, whether they measured, their cohort's names. Measured: about 710 bytes (300,000
/// members, 12 periods).
pub const BYTES_PER_MEMBER: u64 = 768;
/// One member in one plan's book, besides their history's outcomes: what they were paid, their
/// premium loading, and the plan's per-member totals kept over the run. Measured: about 120
/// bytes (a second plan adds 887 bytes a member at 12 periods, 768 of them its outcomes).
pub const BYTES_PER_MEMBER_PLAN: u64 = 160;
/// One outcome in a member's history under a plan: a fixed-size record of 56 bytes (tiers and
/// periods are kept once a book), in a history with room for the run's periods from the start,
/// and the allocator's rounding. Measured: 64 bytes a period at 12 periods.
pub const BYTES_PER_OUTCOME: u64 = 64;
/// One month a member spends in the run, whatever the plans: the lab results drawn for it
/// (an HbA1c every few months), kept for the rest of the run. Measured: about 4 bytes a
/// member-month over 12 years of annual periods.
pub const BYTES_PER_MEMBER_MONTH: u64 = 6;
/// One metric a plan keeps (`[history] keep`) in one outcome: a value in the book's one list of
/// kept values, whose room is made for the whole run at its start.
pub const BYTES_PER_KEPT_METRIC: u64 = 24;
/// One replication's totals kept for one plan, by tier and by cohort, and their share of the
/// summary and report rendered from them. Measured: 4.6–5.2 KB.
pub const BYTES_PER_REPLICATION_PLAN: u64 = 6 * 1024;
/// A period's column in one replication's totals for one plan.
pub const BYTES_PER_REPLICATION_PLAN_PERIOD: u64 = 64;
/// What any run holds whatever its size: the compiled policies, the thread pool, the report's
/// fixed parts. Measured: 3–5 MB.
pub const BYTES_BASE: u64 = 8 * 1024 * 1024;
/// Each thread of the pool, whatever it decides: the pages its allocator keeps for reuse
/// (mimalloc, the binary's allocator, keeps a heap a thread) and the evaluation's buffers.
/// Measured: a run of two replications took 11–13 MB on one thread and 17–22 MB on two, of
/// which the second replication in flight accounts for 7 MB.
pub const BYTES_PER_THREAD: u64 = 4 * 1024 * 1024;

/// What the estimate needs to know of a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanShape {
    /// The metrics it keeps with each outcome for later periods (`[history] keep`).
    pub kept_metrics: u64,
}

impl PlanShape {
    pub fn of(policy: &Policy) -> Self {
        Self {
            kept_metrics: policy.manifest.history.keep.len() as u64,
        }
    }

    /// The shapes of `plans`, in order.
    pub fn all(plans: &[&Policy]) -> Vec<Self> {
        plans.iter().map(|p| Self::of(p)).collect()
    }

    /// One outcome in a member's history under this plan.
    fn outcome_bytes(self) -> u64 {
        BYTES_PER_OUTCOME.saturating_add(self.kept_metrics.saturating_mul(BYTES_PER_KEPT_METRIC))
    }
}

/// Members a chunk holds for a model over periods of `kind`: [`MEMBERS_PER_CHUNK_MAX`], or
/// fewer when their readings are many.
pub fn members_per_chunk(model: &Population, kind: PeriodKind) -> usize {
    let mean = model.readings_per_member_period_mean(kind);
    if !(mean.is_finite() && mean >= 1.0) {
        return MEMBERS_PER_CHUNK_MAX;
    }
    let fits = (CHUNK_READINGS_MAX as f64 / mean).floor();
    // A float between 1 and MEMBERS_PER_CHUNK_MAX: the conversion is exact.
    fits.clamp(1.0, MEMBERS_PER_CHUNK_MAX as f64) as usize
}

/// A run's estimated peak memory, and what it is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct Footprint {
    /// Replications held at once: the threads, or fewer replications.
    pub replications_at_once: u64,
    pub members_per_chunk: usize,
    /// Readings a member has in a period on average.
    pub readings_per_member_period: f64,
    /// The peak, in bytes.
    pub bytes: u64,
}

/// The peak memory of running `plans` on `config` over `model` with `threads` threads.
pub fn estimate(
    model: &Population,
    plans: &[PlanShape],
    config: &Config,
    threads: usize,
) -> Footprint {
    let plans = match plans {
        [] => &[PlanShape::default()][..],
        some => some,
    };
    let kind = config.first_period.kind();
    let per_chunk = members_per_chunk(model, kind);
    let readings = model.readings_per_member_period_mean(kind).max(0.0);
    // Replications this shard runs: `r` with `r mod count = index − 1`.
    let (index, count) = (config.shard.index.max(1), config.shard.count.max(1));
    let replications = config
        .replications
        .saturating_sub(index - 1)
        .div_ceil(count)
        .max(1);
    let at_once = (threads.max(1) as u64).min(replications).max(1);
    let members = config.members;
    let periods = u64::from(config.periods);
    let outcomes: u64 = plans
        .iter()
        .map(|p| periods.saturating_mul(p.outcome_bytes()))
        .fold(0, u64::saturating_add);
    let plans = plans.len() as u64;
    let chunk_members = members.min(per_chunk as u64);
    // Saturating throughout: a figure past u64 is refused like any other past the limit.
    let chunk_bytes = (chunk_members as f64 * readings * BYTES_PER_READING as f64).ceil();
    let chunk_bytes = if chunk_bytes < u64::MAX as f64 {
        chunk_bytes as u64
    } else {
        u64::MAX
    };
    let months = periods.saturating_mul(u64::from(crate::synth::months(config.first_period)));
    let per_member = BYTES_PER_MEMBER
        .saturating_add(months.saturating_mul(BYTES_PER_MEMBER_MONTH))
        .saturating_add(plans.saturating_mul(BYTES_PER_MEMBER_PLAN))
        .saturating_add(outcomes);
    let in_flight = chunk_bytes.saturating_add(members.saturating_mul(per_member));
    let kept = replications.saturating_mul(plans).saturating_mul(
        BYTES_PER_REPLICATION_PLAN
            .saturating_add(periods.saturating_mul(BYTES_PER_REPLICATION_PLAN_PERIOD)),
    );
    Footprint {
        replications_at_once: at_once,
        members_per_chunk: per_chunk,
        readings_per_member_period: readings,
        bytes: BYTES_BASE
            .saturating_add((threads.max(1) as u64).saturating_mul(BYTES_PER_THREAD))
            .saturating_add(at_once.saturating_mul(in_flight))
            .saturating_add(kept),
    }
}

impl Footprint {
    /// Refuses the run if its peak passes `limit_bytes`; `limit` names the limit as the caller
    /// sets it (a server's setting, a command's flag).
    pub fn check(&self, limit_bytes: u64, limit: &str) -> Result<(), SimError> {
        if self.bytes <= limit_bytes {
            return Ok(());
        }
        Err(SimError::Memory {
            estimate_bytes: self.bytes,
            limit_bytes,
            limit: limit.to_owned(),
            detail: format!(
                "{} replication(s) at once, each holding {} members' readings at a time ({:.0} readings a member-period on average) and every member's history",
                self.replications_at_once, self.members_per_chunk, self.readings_per_member_period
            ),
        })
    }
}

/// Bytes for people: `2.2 GB (2,233,466,880 bytes)`.
pub fn describe_bytes(bytes: u64) -> String {
    const UNITS: [(&str, f64); 3] = [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    let exact = group_thousands(bytes);
    let b = bytes as f64;
    match UNITS.iter().find(|(_, size)| b >= *size) {
        Some((unit, size)) => format!("{:.1} {unit} ({exact} bytes)", b / size),
        None => format!("{exact} bytes"),
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Shard;
    use incentive_engine::Period;

    fn config(members: u64, periods: u32, first: &str) -> Config {
        Config {
            members,
            periods,
            replications: 1,
            seed: 1,
            first_period: Period::parse(first).unwrap(),
            shard: Shard::WHOLE,
        }
    }

    #[test]
    fn bytes_are_written_for_people_with_the_exact_figure_beside() {
        assert_eq!(describe_bytes(999), "999 bytes");
        assert_eq!(
            describe_bytes(2_233_466_880),
            "2.2 GB (2,233,466,880 bytes)"
        );
        assert_eq!(describe_bytes(1_500_000), "1.5 MB (1,500,000 bytes)");
    }

    #[test]
    fn a_finger_stick_population_keeps_whole_chunks_and_a_sensor_one_smaller_ones() {
        let smbg = Population::default();
        assert_eq!(
            members_per_chunk(&smbg, PeriodKind::Annual),
            MEMBERS_PER_CHUNK_MAX
        );
        let mut cgm = Population::default();
        cgm.cgm.wearing_share = 1.0;
        cgm.cgm.wear_share = 1.0;
        cgm.cgm.interval_minutes = 1;
        // 44,700 readings a 31-day month: 93 members make about 4.2 million.
        assert_eq!(members_per_chunk(&cgm, PeriodKind::Monthly), 93);
    }

    /// The model: every member on a sensor, on all the time, a reading a minute. With
    /// whole chunks of 2,048 members it needed 2.2 GB for a month; a chunk now holds about
    /// 170 MB of readings, and the estimate says so.
    #[test]
    fn a_minute_by_minute_sensor_month_is_estimated_near_its_chunk_and_refused_past_a_limit() {
        let mut cgm = Population::default();
        cgm.cgm.wearing_share = 1.0;
        cgm.cgm.wear_share = 1.0;
        cgm.cgm.interval_minutes = 1;
        let f = estimate(
            &cgm,
            &[PlanShape::default()],
            &config(2048, 1, "2026-01"),
            1,
        );
        assert!(
            (100_000_000..400_000_000).contains(&f.bytes),
            "{}",
            describe_bytes(f.bytes)
        );
        let err = f
            .check(64 * 1024 * 1024, "simulation_memory_bytes_max")
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&describe_bytes(f.bytes))
                && text.contains("67.1 MB (67,108,864 bytes)")
                && text.contains("simulation_memory_bytes_max"),
            "{text}"
        );
        assert!(f.check(f.bytes, "simulation_memory_bytes_max").is_ok());
    }

    #[test]
    fn a_run_twice_the_members_or_threads_is_estimated_at_nearly_twice_the_memory() {
        let model = Population::default();
        let two_plans = |c: &Config, threads| {
            estimate(&model, &[PlanShape::default(); 2], c, threads).bytes - BYTES_BASE
        };
        let one = two_plans(&config(1_000_000, 12, "2026-01"), 1);
        let members = two_plans(&config(2_000_000, 12, "2026-01"), 1);
        let threads = {
            let mut c = config(1_000_000, 12, "2026-01");
            c.replications = 8;
            two_plans(&c, 2)
        };
        assert!(
            members > one * 19 / 10 && members <= one * 2,
            "{one} {members}"
        );
        assert!(threads > one * 19 / 10, "{one} {threads}");
    }

    #[test]
    fn each_metric_a_plan_keeps_is_counted_for_every_member_period_and_no_plan_counts_as_one() {
        let model = Population::default();
        let c = config(100_000, 12, "2026-01");
        let bytes = |plans: &[PlanShape]| estimate(&model, plans, &c, 1).bytes;
        let keeps = |kept_metrics| PlanShape { kept_metrics };
        assert_eq!(
            bytes(&[keeps(3)]) - bytes(&[keeps(0)]),
            100_000 * 12 * 3 * BYTES_PER_KEPT_METRIC
        );
        assert_eq!(
            bytes(&[keeps(0), keeps(2)]) - bytes(&[keeps(0), keeps(0)]),
            100_000 * 12 * 2 * BYTES_PER_KEPT_METRIC
        );
        assert_eq!(bytes(&[]), bytes(&[PlanShape::default()]));
    }

    #[test]
    fn a_run_of_annual_periods_counts_the_labs_of_every_month_it_spans() {
        let model = Population::default();
        // What members hold, without the chunk of readings (a year's readings are more).
        let held = |first| {
            let f = estimate(
                &model,
                &[PlanShape::default()],
                &config(100_000, 12, first),
                1,
            );
            let chunk = f.members_per_chunk as f64
                * f.readings_per_member_period
                * BYTES_PER_READING as f64;
            f.bytes - chunk.ceil() as u64
        };
        assert_eq!(
            held("2026") - held("2026-01"),
            100_000 * 12 * 11 * BYTES_PER_MEMBER_MONTH
        );
    }
}
