//! The distribution of a money total over replications, exact where it can be: totals and
//! quantiles are the decimals themselves, the mean is an exact sum divided once, and only the
//! standard deviation (a square root) is rounded — to the cent's hundredth.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, MathematicalOps};
use serde::Serialize;

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
    /// 95 % confidence interval of the mean: mean ± 1.96 standard errors.
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
}

/// The `q` quantile by linear interpolation between order statistics (R's type 7, the default
/// of R and NumPy), of sorted values.
fn quantile(sorted: &[Decimal], q: Decimal) -> Decimal {
    let n = sorted.len();
    if n == 0 {
        return Decimal::ZERO;
    }
    let h = q * Decimal::from(n - 1);
    let lo = h.floor();
    let i = lo.to_usize().unwrap_or(0).min(n - 1);
    let a = sorted.get(i).copied().unwrap_or_default();
    let b = sorted.get((i + 1).min(n - 1)).copied().unwrap_or(a);
    (a + (h - lo) * (b - a)).round_dp(PLACES).normalize()
}

fn tail_mean(sorted: &[Decimal], from: Decimal) -> Decimal {
    let tail: Vec<&Decimal> = sorted.iter().filter(|v| **v >= from).collect();
    if tail.is_empty() {
        return from;
    }
    let sum: Decimal = tail.iter().copied().sum();
    (sum / Decimal::from(tail.len()))
        .round_dp(PLACES)
        .normalize()
}

impl Distribution {
    pub fn of(values: &[Decimal]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort();
        let n = sorted.len();
        let count = Decimal::from(n.max(1));
        let sum: Decimal = sorted.iter().sum();
        let mean = sum / count;
        let variance = if n > 1 {
            sorted
                .iter()
                .map(|v| (*v - mean) * (*v - mean))
                .sum::<Decimal>()
                / Decimal::from(n - 1)
        } else {
            Decimal::ZERO
        };
        let sd = variance.sqrt().unwrap_or_default();
        let se = sd / count.sqrt().unwrap_or(Decimal::ONE);
        let half = Decimal::new(196, 2) * se;
        let r = |d: Decimal| d.round_dp(PLACES).normalize();
        let q = |p: i64| quantile(&sorted, Decimal::new(p, 2));
        let (var95, var99) = (q(95), q(99));
        Self {
            replications: u64::try_from(n).unwrap_or(u64::MAX),
            mean: r(mean),
            sd: r(sd),
            standard_error: r(se),
            mean_ci95: [r(mean - half), r(mean + half)],
            min: sorted.first().copied().unwrap_or_default().normalize(),
            p50: q(50),
            p90: q(90),
            p95: var95,
            p99: var99,
            max: sorted.last().copied().unwrap_or_default().normalize(),
            var95,
            var99,
            tvar95: tail_mean(&sorted, var95),
            tvar99: tail_mean(&sorted, var99),
        }
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
    fn one_replication_has_no_spread_and_none_has_zeros() {
        let s = Distribution::of(&[d(30)]);
        assert_eq!((s.mean, s.sd, s.p99, s.tvar99), (d(30), d(0), d(30), d(30)));
        let empty = Distribution::of(&[]);
        assert_eq!((empty.replications, empty.mean), (0, d(0)));
    }
}
