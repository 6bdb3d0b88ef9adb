//! A CGM wearer's sensor trace for one period: a reading every `interval_minutes` while the
//! sensor is on, with gaps (sensor changes, warm-up, lost signal) of random length.
//!
//! Glucose is log-normal around the member's own 24-hour mean: an AR(1) process on the
//! log scale whose correlation an hour later is `autocorrelation_1h` (0.31 in simglucose's
//! UVA/Padova adult trace, which this mimics), plus a rise after each of three meals
//! (a gamma-shaped bump peaking 45 minutes after 07:00, 12:00 and 18:00 local time, whose
//! height is the model's post-meal rise). Sensors read 40–400 mg/dL, whole numbers; outside
//! that, the meter's LO and HI.

use crate::SimError;
use crate::population::Population;
use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;
use incentive_engine::{Context, Glucose, GlucoseValue, Period, Reading, ReadingsBuilder, Source};
use rand::Rng;
use rand_distr::{Distribution, Exp, Normal};

/// Local hours of the day's meals.
const MEAL_HOURS: [u32; 3] = [7, 12, 18];
/// Minutes after a meal at which its rise peaks.
const MEAL_PEAK_MINUTES: f64 = 45.0;
const SENSOR_MIN_MG_DL: f64 = 40.0;
const SENSOR_MAX_MG_DL: f64 = 400.0;
const MINUTES_PER_DAY: u32 = 24 * 60;
const MS_PER_HOUR: i64 = 3_600_000;

/// The rise `minutes` after a meal, as a share of its peak (0 before the meal; 1 at the peak;
/// most of it gone three hours on).
fn meal_shape(minutes: f64) -> f64 {
    if minutes <= 0.0 {
        return 0.0;
    }
    let x = minutes / MEAL_PEAK_MINUTES;
    x * (1.0 - x).exp()
}

/// Pushes the period's trace of a wearer whose 24-hour mean glucose is `mean_mmol_l` into
/// `builder`; returns how many readings it pushed.
/// With no `builder`, it stops at the first reading the trace would have and returns 1 (or 0
/// if it has none): whether the wearer measured, from the very draws the whole trace makes.
pub fn trace(
    model: &Population,
    mean_mmol_l: f64,
    period: Period,
    zone: Tz,
    rng: &mut impl Rng,
    mut builder: Option<&mut ReadingsBuilder>,
) -> Result<u64, SimError> {
    let c = &model.cgm;
    let bad = |what: &str, e: &dyn std::fmt::Display| SimError::Model(format!("cgm {what}: {e}"));
    let window = period.window(zone).map_err(|e| bad("period", &e))?;
    let step_minutes = f64::from(c.interval_minutes.max(1));
    let steps =
        (window.end - window.start).num_minutes().max(0) / i64::from(c.interval_minutes.max(1));
    // AR(1) on the log scale with the stationary spread `log_sd`.
    let phi = c
        .autocorrelation_1h
        .clamp(0.0, 0.999)
        .powf(step_minutes / 60.0);
    let innovation = Normal::new(0.0, c.log_sd * (1.0 - phi * phi).sqrt())
        .map_err(|e| bad("variability", &e))?;
    let start_state = Normal::new(0.0, c.log_sd).map_err(|e| bad("variability", &e))?;
    // On and off spells: gaps average `gap_hours_mean`, and spells on are as long as makes the
    // sensor on `wear_share` of the time.
    let gap_steps = (c.gap_hours_mean * 60.0 / step_minutes).max(1.0);
    let on_steps = gap_steps * c.wear_share / (1.0 - c.wear_share).max(1e-6);
    let off_spell = Exp::new(1.0 / gap_steps).map_err(|e| bad("gap length", &e))?;
    let on_spell = Exp::new(1.0 / on_steps.max(1.0)).map_err(|e| bad("wear length", &e))?;
    let rise = model.glycaemia.post_meal_rise_mmol_l * 2.0;
    let meal_height = (1.0 + rise / mean_mmol_l.max(1.0)).ln();
    // The bumps add about a third of their height to the day's mean log: take it off again so
    // the trace's mean stays the member's.
    let base = mean_mmol_l.max(1.0).ln() - meal_height * 0.3;

    // The meals' rise by local minute of the day, worked out once rather than at each reading.
    let meals_by_minute: Vec<f64> = (0..MINUTES_PER_DAY)
        .map(|minute| {
            MEAL_HOURS
                .iter()
                .map(|h| meal_shape(f64::from(minute) - f64::from(h * 60)))
                .sum()
        })
        .collect();
    // The zone's offset, looked up once an hour of the trace (offsets change on the hour).
    let mut offset_hour = i64::MIN;
    let mut offset = chrono::FixedOffset::east_opt(0).ok_or_else(|| bad("offset", &"UTC"))?;

    let start_ms = window.start.timestamp_millis();
    let step_ms = i64::from(c.interval_minutes.max(1)) * 60_000;
    let mut x = start_state.sample(rng);
    let mut on = rng.random::<f64>() < c.wear_share;
    let mut spell_left = if on {
        on_spell.sample(rng)
    } else {
        off_spell.sample(rng)
    };
    let mut pushed = 0_u64;
    for k in 0..steps {
        x = phi * x + innovation.sample(rng);
        spell_left -= 1.0;
        if spell_left <= 0.0 {
            on = !on;
            spell_left = if on {
                on_spell.sample(rng)
            } else {
                off_spell.sample(rng)
            };
        }
        if !on {
            continue;
        }
        let Some(builder) = builder.as_deref_mut() else {
            return Ok(1);
        };
        // Integer milliseconds: chrono's calendar arithmetic at every reading would cost more
        // than drawing it.
        let t_ms = start_ms + k * step_ms;
        let utc = DateTime::from_timestamp_millis(t_ms).ok_or_else(|| bad("time", &t_ms))?;
        let hour = t_ms.div_euclid(MS_PER_HOUR);
        if hour != offset_hour {
            offset_hour = hour;
            offset = zone.offset_from_utc_datetime(&utc.naive_utc()).fix();
        }
        let local_s = t_ms.div_euclid(1000) + i64::from(offset.local_minus_utc());
        let minute_of_day = local_s.rem_euclid(86_400) / 60;
        let meals = meals_by_minute
            .get(usize::try_from(minute_of_day).unwrap_or(0))
            .copied()
            .unwrap_or(0.0);
        let local = utc.with_timezone(&offset);
        let mg_dl = (base + x + meal_height * meals).exp() * incentive_engine::MG_DL_PER_MMOL_L;
        let value = if mg_dl < SENSOR_MIN_MG_DL {
            GlucoseValue::Low
        } else if mg_dl > SENSOR_MAX_MG_DL {
            GlucoseValue::High
        } else {
            GlucoseValue::Measured(
                Glucose::from_mg_dl(mg_dl.round()).map_err(|e| bad("reading", &e))?,
            )
        };
        builder.push(Reading {
            time: local,
            value,
            context: Context::Unknown,
            source: Source::Cgm,
        });
        pushed += 1;
    }
    Ok(pushed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{Purpose, stream};

    fn trace_of(model: &Population, mean: f64) -> incentive_engine::Readings {
        let mut b = ReadingsBuilder::new();
        let period = Period::parse("2026-Q1").unwrap();
        let mut rng = stream(7, 1, 0, 1, Purpose::Readings);
        let n = trace(
            model,
            mean,
            period,
            chrono_tz::Asia::Shanghai,
            &mut rng,
            Some(&mut b),
        )
        .unwrap();
        let readings = b.finish().readings;
        assert_eq!(readings.len() as u64, n);
        readings
    }

    #[test]
    fn a_trace_keeps_the_wear_share_and_the_members_mean_and_spread() {
        let model = Population::default();
        let r = trace_of(&model, 8.0);
        // A quarter of 5-minute readings is 25,920; on 85 % of the time.
        let worn = r.len() as f64 / 25_920.0;
        assert!((0.70..=0.97).contains(&worn), "{worn}");
        let v: Vec<f64> = r
            .values_mg_dl()
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64 / incentive_engine::MG_DL_PER_MMOL_L;
        assert!((7.0..=9.5).contains(&mean), "{mean}");
        let logs: Vec<f64> = v.iter().map(|x| x.ln()).collect();
        let lm = logs.iter().sum::<f64>() / logs.len() as f64;
        let sd = (logs.iter().map(|l| (l - lm).powi(2)).sum::<f64>() / logs.len() as f64).sqrt();
        assert!((0.2..=0.4).contains(&sd), "{sd}");
    }

    #[test]
    fn readings_come_every_interval_and_are_whole_milligrams() {
        let model = Population::default();
        let r = trace_of(&model, 8.0);
        let t = r.times_ms();
        let step = 5 * 60 * 1000;
        assert!(
            t.windows(2)
                .all(|w| (w[1] - w[0]) % step == 0 && w[1] > w[0])
        );
        assert!(t.windows(2).any(|w| w[1] - w[0] > step), "no gap at all");
        assert!(
            r.values_mg_dl()
                .iter()
                .filter(|x| x.is_finite())
                .all(|x| x.fract() == 0.0)
        );
    }
}
