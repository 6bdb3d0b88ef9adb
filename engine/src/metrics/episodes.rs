//! Hypo- and hyperglycaemic episodes by the consensus 15-minute rule.
//!
//! An episode begins when readings stay out of range for at least 15 minutes and ends when they
//! are back in range for at least 15 minutes (Battelino et al., Diabetes Care 2023;46:1593,
//! following the 2017 and 2019 consensus). Each reading stands for one sampling interval dt, so
//! a run of k readings lasts (t_last − t_first) + dt: three 5-minute readings are 15 minutes.
//!
//! Episodes are a CGM concept: they are counted only when the sampling interval is at most
//! [`CGM_SAMPLING_MINUTES_MAX`]; finger-stick data gives `None`. A gap in the data longer
//! than twice dt ends whatever was under way, since nothing is known about the gap.

use crate::metrics::coverage::{CGM_SAMPLING_MINUTES_MAX, sampling_interval_minutes};

/// The minimum duration, in minutes, out of range to begin an episode or in range to end one.
pub const EPISODE_MINUTES_MIN: f64 = 15.0;

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    InRange,
    /// Out of range since this time, not yet long enough to count.
    Starting(i64),
    InEpisode,
    /// Back in range since this time, not yet long enough to end the episode.
    Ending(i64),
}

/// The number of episodes in which `out_of_range(g)` held for at least 15 minutes.
pub fn count_episodes(
    times_ms: &[i64],
    values: &[f64],
    out_of_range: impl Fn(f64) -> bool,
) -> Option<u64> {
    count_episodes_at(
        times_ms,
        values,
        sampling_interval_minutes(times_ms)?,
        out_of_range,
    )
}

/// [`count_episodes`] with the sampling interval (minutes) already known.
pub fn count_episodes_at(
    times_ms: &[i64],
    values: &[f64],
    dt_minutes: f64,
    out_of_range: impl Fn(f64) -> bool,
) -> Option<u64> {
    if !(dt_minutes > 0.0 && dt_minutes <= CGM_SAMPLING_MINUTES_MAX) {
        return None;
    }
    let dt_ms = (dt_minutes * 60_000.0) as i64;
    let min_ms = (EPISODE_MINUTES_MIN * 60_000.0) as i64;
    let lasted = |since: i64, now: i64| now - since + dt_ms >= min_ms;
    let mut state = State::InRange;
    let mut episodes = 0_u64;
    let mut previous: Option<i64> = None;
    for (&t, &g) in times_ms.iter().zip(values) {
        if previous.is_some_and(|p| t - p > 2 * dt_ms) {
            state = State::InRange;
        }
        previous = Some(t);
        let out = out_of_range(g);
        state = match (state, out) {
            (State::InRange, false) => State::InRange,
            (State::InRange, true) => {
                if lasted(t, t) {
                    episodes += 1;
                    State::InEpisode
                } else {
                    State::Starting(t)
                }
            }
            (State::Starting(_), false) => State::InRange,
            (State::Starting(since), true) => {
                if lasted(since, t) {
                    episodes += 1;
                    State::InEpisode
                } else {
                    State::Starting(since)
                }
            }
            (State::InEpisode, true) | (State::Ending(_), true) => State::InEpisode,
            (State::InEpisode, false) => {
                if lasted(t, t) {
                    State::InRange
                } else {
                    State::Ending(t)
                }
            }
            (State::Ending(since), false) => {
                if lasted(since, t) {
                    State::InRange
                } else {
                    State::Ending(since)
                }
            }
        };
    }
    Some(episodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn trace(values: &[f64]) -> (Vec<i64>, Vec<f64>) {
        (
            (0..values.len() as i64).map(|i| i * 5 * MIN).collect(),
            values.to_vec(),
        )
    }

    fn hypos(values: &[f64]) -> Option<u64> {
        let (t, v) = trace(values);
        count_episodes(&t, &v, |g| g < 70.0)
    }

    #[test]
    fn fifteen_minutes_below_is_an_episode_and_ten_is_not() {
        assert_eq!(hypos(&[100.0, 65.0, 65.0, 100.0, 100.0, 100.0]), Some(0));
        assert_eq!(
            hypos(&[100.0, 65.0, 65.0, 65.0, 100.0, 100.0, 100.0]),
            Some(1)
        );
    }

    #[test]
    fn a_short_recovery_does_not_end_an_episode() {
        let dip = [65.0, 65.0, 65.0];
        let short = [100.0, 100.0];
        let long = [100.0, 100.0, 100.0];
        let one: Vec<f64> = [&dip[..], &short, &dip, &long].concat();
        assert_eq!(hypos(&one), Some(1));
        let two: Vec<f64> = [&dip[..], &long, &dip, &long].concat();
        assert_eq!(hypos(&two), Some(2));
    }

    #[test]
    fn a_long_gap_ends_an_episode_under_way() {
        let times = [
            0,
            5 * MIN,
            10 * MIN,
            15 * MIN,
            20 * MIN,
            120 * MIN,
            125 * MIN,
            130 * MIN,
        ];
        let values = [65.0, 65.0, 65.0, 100.0, 65.0, 65.0, 65.0, 65.0];
        assert_eq!(count_episodes(&times, &values, |g| g < 70.0), Some(2));
    }

    #[test]
    fn finger_stick_data_has_no_episodes() {
        let times = [0, 240 * MIN, 480 * MIN];
        assert_eq!(
            count_episodes(&times, &[50.0, 50.0, 50.0], |g| g < 70.0),
            None
        );
    }
}
