//! Kovatchev's low and high blood glucose indices (LBGI, HBGI).
//!
//! f(g) = 1.509 · (ln(g)^1.084 − 5.381), g in mg/dL, which is 0 near 112.5 mg/dL.
//! LBGI = 10 · Σ_{g<112.5} min(f(g), 0)² / n and HBGI = 10 · Σ_{g≥112.5} max(f(g), 0)² / n,
//! with n all measured readings. The clamps are iglu's (f changes sign a hair away from
//! 112.5, so they only matter there).
//!
//! Source: Kovatchev et al., Diabetes Care 1997;20:1655 and 2006;29:2433; iglu `lbgi`/`hbgi`.
//!
//! `LO` and `HI` are left out: they are not numbers, and putting a stand-in value through a
//! logarithm would make the index depend on a meter's display range. They still count in TBR
//! and TAR.

use crate::metrics::distribution::as_f64;

/// The glucose value at which risk switches from low to high, in mg/dL.
pub const RISK_SPLIT_MG_DL: f64 = 112.5;

fn kovatchev_f(g: f64) -> f64 {
    1.509 * (g.ln().powf(1.084) - 5.381)
}

/// Low and high blood glucose indices; `None` when there is no measured value.
pub fn lbgi_hbgi(values: &[f64]) -> Option<(f64, f64)> {
    let mut low = 0.0;
    let mut high = 0.0;
    let mut n = 0_u64;
    for &g in values.iter().filter(|g| g.is_finite()) {
        n += 1;
        let f = kovatchev_f(g);
        if g < RISK_SPLIT_MG_DL {
            let f = f.min(0.0);
            low += f * f;
        } else {
            let f = f.max(0.0);
            high += f * f;
        }
    }
    (n > 0).then(|| (10.0 * low / as_f64(n), 10.0 * high / as_f64(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_is_zero_at_the_split_and_grows_away_from_it() {
        assert!(kovatchev_f(RISK_SPLIT_MG_DL).abs() < 0.01);
        let (l, h) = lbgi_hbgi(&[112.5]).unwrap_or_default();
        assert!(l < 1e-3 && h < 1e-3);
        let (l, h) = lbgi_hbgi(&[50.0]).unwrap_or_default();
        // f(50) = 1.509·((ln 50)^1.084 − 5.381) = −1.500…; 10·f² = 22.500…
        assert!((l - 22.500).abs() < 0.001 && h == 0.0, "{l} {h}");
        let (l, h) = lbgi_hbgi(&[300.0]).unwrap_or_default();
        // f(300) = 1.842…; 10·f² = 33.952…
        assert!(l == 0.0 && (h - 33.952).abs() < 0.001, "{l} {h}");
        assert_eq!(lbgi_hbgi(&[f64::INFINITY]), None);
    }
}
