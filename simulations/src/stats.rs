//! The distribution of a money total over replications, exact where it can be: totals and
//! quantiles are the decimals themselves, the mean is an exact sum divided once, and only the
//! standard deviation (a square root) is rounded — to the cent's hundredth.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, MathematicalOps};
use serde::Serialize;
use std::collections::BTreeMap;

/// Places the derived figures (mean, sd, interpolated quantiles) are rounded to.
const PLACES: u32 = 4;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Distribution {
    pub replications: u64,
    pub mean: Decimal,
    /// Sample standard deviation (n − 1).
    pub sd: Decimal,
    /// Monte Carlo standard error of the mean: sd / √n.
    pub standard_error: Decimal,
    /// 95 % confidence interval of the mean: mean ± t standard errors, t the 97.5 % point of
    /// Student's t with n − 1 degrees of freedom (12.71 at 2 replications, 2.09 at 20, 1.96 in
    /// the limit); no width with one replication, which gives no spread to measure.
    pub mean_ci95: [Decimal; 2],
    pub min: Decimal,
    pub p50: Decimal,
    pub p90: Decimal,
    pub p95: Decimal,
    pub p99: Decimal,
    pub max: Decimal,
    /// Value at risk: the 95th and 99th percentiles of the total.
    pub var95: Decimal,
    pub var99: Decimal,
    /// Tail value at risk: the mean of the totals at or above each VaR.
    pub tvar95: Decimal,
    pub tvar99: Decimal,
    /// Replications at or above each VaR: what each TVaR is the mean of.
    pub tail_replications_95: u64,
    pub tail_replications_99: u64,
    /// What a reader should know before trusting a figure: a tail figure resting on fewer than
    /// [`TAIL_REPLICATIONS_MIN`] replications.
    pub warnings: Vec<String>,
}

/// Replications a tail figure (VaR, TVaR) should rest on at least before it is read without a
/// warning.
pub const TAIL_REPLICATIONS_MIN: u64 = 10;

/// The 97.5 % point of Student's t with `df` degrees of freedom, to four places.
pub fn t_975(df: u64) -> Decimal {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let t = StudentsT::new(0.0, 1.0, df.max(1) as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(1.96);
    Decimal::from_f64_retain(t)
        .unwrap_or(Decimal::new(196, 2))
        .round_dp(4)
}

/// Values with how many times each occurs, ascending: a sorted list, kept short.
struct Counted<'a> {
    values: &'a [(Decimal, u64)],
    n: u64,
}

impl Counted<'_> {
    /// The `k`-th value (0-based) of the sorted list.
    fn nth(&self, k: u64) -> Decimal {
        let mut seen = 0;
        for (v, c) in self.values {
            seen += c;
            if k < seen {
                return *v;
            }
        }
        self.values.last().map(|(v, _)| *v).unwrap_or_default()
    }

    /// The `q` quantile by linear interpolation between order statistics (R's type 7, the
    /// default of R and NumPy).
    fn quantile(&self, q: Decimal) -> Decimal {
        if self.n == 0 {
            return Decimal::ZERO;
        }
        let h = q * Decimal::from(self.n - 1);
        let lo = h.floor();
        let i = lo.to_u64().unwrap_or(0).min(self.n - 1);
        let a = self.nth(i);
        let b = self.nth((i + 1).min(self.n - 1));
        (a + (h - lo) * (b - a)).round_dp(PLACES).normalize()
    }

    /// How many values are at or above `from`.
    fn tail_count(&self, from: Decimal) -> u64 {
        self.values
            .iter()
            .filter(|(v, _)| *v >= from)
            .map(|(_, c)| c)
            .sum()
    }

    /// The mean of the values at or above `from`.
    fn tail_mean(&self, from: Decimal) -> Decimal {
        let (mut sum, mut count) = (Decimal::ZERO, 0u64);
        for (v, c) in self.values.iter().filter(|(v, _)| *v >= from) {
            sum += *v * Decimal::from(*c);
            count += c;
        }
        if count == 0 {
            return from;
        }
        (sum / Decimal::from(count)).round_dp(PLACES).normalize()
    }
}

/// `part` of `whole` as a share, to four places (0 of nothing).
pub fn share(part: u64, whole: u64) -> Decimal {
    if whole == 0 {
        Decimal::ZERO
    } else {
        (Decimal::from(part) / Decimal::from(whole))
            .round_dp(PLACES)
            .normalize()
    }
}

/// The `q` quantile of `values` by R's type 7, as [`Distribution`]'s percentiles are.
pub fn quantile(values: &[Decimal], q: Decimal) -> Decimal {
    let mut counts: BTreeMap<Decimal, u64> = BTreeMap::new();
    for v in values {
        *counts.entry(*v).or_default() += 1;
    }
    let values: Vec<(Decimal, u64)> = counts.into_iter().collect();
    Counted {
        n: values.iter().map(|(_, c)| c).sum(),
        values: &values,
    }
    .quantile(q)
}

impl Distribution {
    pub fn of(values: &[Decimal]) -> Self {
        let mut counts: BTreeMap<Decimal, u64> = BTreeMap::new();
        for v in values {
            *counts.entry(*v).or_default() += 1;
        }
        Self::of_counts(&counts.into_iter().collect::<Vec<_>>())
    }

    /// The distribution of values given with how many times each occurs, ascending (as
    /// [`crate::members::MemberTotals`] keeps them): the same figures as [`Distribution::of`]
    /// the values written out.
    pub fn of_counts(values: &[(Decimal, u64)]) -> Self {
        let n: u64 = values.iter().map(|(_, c)| c).sum();
        let counted = Counted { values, n };
        let count = Decimal::from(n.max(1));
        let sum: Decimal = values.iter().map(|(v, c)| *v * Decimal::from(*c)).sum();
        let mean = sum / count;
        let variance = if n > 1 {
            values
                .iter()
                .map(|(v, c)| (*v - mean) * (*v - mean) * Decimal::from(*c))
                .sum::<Decimal>()
                / Decimal::from(n - 1)
        } else {
            Decimal::ZERO
        };
        let sd = variance.sqrt().unwrap_or_default();
        let se = sd / count.sqrt().unwrap_or(Decimal::ONE);
        let half = if n > 1 {
            t_975(n - 1) * se
        } else {
            Decimal::ZERO
        };
        let r = |d: Decimal| d.round_dp(PLACES).normalize();
        let q = |p: i64| counted.quantile(Decimal::new(p, 2));
        let (var95, var99) = (q(95), q(99));
        Self {
            replications: n,
            mean: r(mean),
            sd: r(sd),
            standard_error: r(se),
            mean_ci95: [r(mean - half), r(mean + half)],
            min: values
                .first()
                .map(|(v, _)| *v)
                .unwrap_or_default()
                .normalize(),
            p50: q(50),
            p90: q(90),
            p95: var95,
            p99: var99,
            max: values
                .last()
                .map(|(v, _)| *v)
                .unwrap_or_default()
                .normalize(),
            var95,
            var99,
            tvar95: counted.tail_mean(var95),
            tvar99: counted.tail_mean(var99),
            tail_replications_95: counted.tail_count(var95),
            tail_replications_99: counted.tail_count(var99),
            warnings: tail_warnings(n, counted.tail_count(var95), counted.tail_count(var99)),
        }
    }
}

/// Warnings for the tail figures of `n` values, `tail_95` and `tail_99` of them in the tails.
fn tail_warnings(n: u64, tail_95: u64, tail_99: u64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    // Replications for the 99 % tail to hold TAIL_REPLICATIONS_MIN of them.
    let enough = TAIL_REPLICATIONS_MIN * 100;
    [("95", tail_95, TAIL_REPLICATIONS_MIN * 20), ("99", tail_99, enough)]
        .into_iter()
        .filter(|(_, tail, _)| *tail < TAIL_REPLICATIONS_MIN)
        .map(|(level, tail, needed)| {
            format!(
                "VaR and TVaR {level} % rest on {tail} replication(s) of {n}: read them as indications; about {needed} replications put {TAIL_REPLICATIONS_MIN} in that tail"
            )
        })
        .collect()
}

/// A ratio of two means over paired replications, `mean(x) / mean(y)`, with a 95 % interval
/// by the delta method: the standard error of the mean of `x − ratio × y`, over `|mean(y)|`,
/// times Student's t as for a mean.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ratio {
    pub mean: Decimal,
    pub mean_ci95: [Decimal; 2],
}

impl Ratio {
    /// The ratio of `x`'s mean to `y`'s, pairing them by replication; none when `y`'s mean is 0.
    pub fn of(x: &[Decimal], y: &[Decimal]) -> Option<Self> {
        let n = x.len().min(y.len());
        if n == 0 {
            return None;
        }
        let count = Decimal::from(n as u64);
        let mx = x.iter().take(n).sum::<Decimal>() / count;
        let my = y.iter().take(n).sum::<Decimal>() / count;
        if my.is_zero() {
            return None;
        }
        let ratio = mx / my;
        let half = if n > 1 {
            let variance = x
                .iter()
                .zip(y)
                .map(|(a, b)| {
                    let d = *a - ratio * *b;
                    let centred = d - (mx - ratio * my);
                    centred * centred
                })
                .sum::<Decimal>()
                / Decimal::from(n as u64 - 1);
            let se = variance.sqrt().unwrap_or_default()
                / count.sqrt().unwrap_or(Decimal::ONE)
                / my.abs();
            t_975(n as u64 - 1) * se
        } else {
            Decimal::ZERO
        };
        let r = |d: Decimal| d.round_dp(PLACES).normalize();
        Some(Self {
            mean: r(ratio),
            mean_ci95: [r(ratio - half), r(ratio + half)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: i64) -> Decimal {
        Decimal::from(v)
    }

    #[test]
    fn quantiles_interpolate_as_r_type_7_does() {
        // R: quantile(1:10, c(.5, .9, .95, .99)) = 5.5 9.1 9.55 9.91
        let values: Vec<Decimal> = (1..=10).map(d).collect();
        let s = Distribution::of(&values);
        assert_eq!(s.p50, Decimal::new(55, 1));
        assert_eq!(s.p90, Decimal::new(91, 1));
        assert_eq!(s.p95, Decimal::new(955, 2));
        assert_eq!(s.p99, Decimal::new(991, 2));
        assert_eq!(s.mean, Decimal::new(55, 1));
        // sd(1:10) = 3.0276503540974917
        assert_eq!(s.sd, Decimal::new(30277, 4));
        assert_eq!(s.tvar95, d(10));
        assert_eq!((s.min, s.max), (d(1), d(10)));
    }

    #[test]
    fn the_interval_of_a_mean_uses_students_t_and_tails_on_few_replications_are_flagged() {
        // R: qt(0.975, c(1, 9, 19)) = 12.7062 2.2622 2.0930
        assert_eq!(t_975(1), Decimal::new(127062, 4));
        assert_eq!(t_975(9), Decimal::new(22622, 4));
        assert_eq!(t_975(19), Decimal::new(20930, 4));
        let values: Vec<Decimal> = (1..=10).map(d).collect();
        let s = Distribution::of(&values);
        // mean 5.5, se = 3.02765 / √10 = 0.957427; × 2.2622 = 2.16589
        assert_eq!(
            s.mean_ci95,
            [Decimal::new(33341, 4), Decimal::new(76659, 4)]
        );
        assert_eq!((s.tail_replications_95, s.tail_replications_99), (1, 1));
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
        assert!(s.warnings[1].starts_with("VaR and TVaR 99 % rest on 1 replication(s) of 10"));
        let many: Vec<Decimal> = (1..=1000).map(d).collect();
        assert!(Distribution::of(&many).warnings.is_empty());
    }

    #[test]
    fn one_replication_has_no_spread_and_none_has_zeros() {
        let s = Distribution::of(&[d(30)]);
        assert_eq!((s.mean, s.sd, s.p99, s.tvar99), (d(30), d(0), d(30), d(30)));
        let empty = Distribution::of(&[]);
        assert_eq!((empty.replications, empty.mean), (0, d(0)));
    }

    #[test]
    fn counted_values_give_the_figures_of_the_values_written_out() {
        let values: Vec<Decimal> = [0, 0, 0, 10, 10, 20, 30, 30, 30, 30, 90]
            .into_iter()
            .map(d)
            .collect();
        let counts = [(d(0), 3), (d(10), 2), (d(20), 1), (d(30), 4), (d(90), 1)];
        assert_eq!(Distribution::of(&values), Distribution::of_counts(&counts));
        // R: quantile(c(0,0,0,10,10,20,30,30,30,30,90), .9) = 30; mean 250/11
        let s = Distribution::of_counts(&counts);
        assert_eq!(s.p90, d(30));
        assert_eq!(s.mean, Decimal::new(227273, 4));
        // p99 = 30 + 0.9 × (90 − 30); the only total at or above it is 90.
        assert_eq!((s.p99, s.tvar99), (d(84), d(90)));
    }
}
