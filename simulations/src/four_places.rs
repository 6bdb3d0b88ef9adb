//! A float to a decimal of four places, as `Decimal::from_f64_retain(x)` rounded half to even
//! by `round_dp(4)` gives it, without the general conversion: every member's HbA1c is rounded
//! so each period of every arm, and `from_f64_retain` (a loop over the float's bits, a 96-bit
//! multiplication a bit) was 6 % of a simulation's time.
//!
//! Why the shortcut gives the same decimal. A finite float is `m × 2^-k` with `m` odd. For
//! `k ≤ 4` it has at most four places, exactly, and `from_f64_retain` keeps them (its scale is
//! `k`, which `round_dp(4)` leaves). For `5 ≤ k ≤ K_MAX` the value times 10⁴ is
//! `m × 10⁴ / 2^k`, rounded here exactly, half to even, at scale 4 — as `round_dp(4)` does to
//! a scale past four. `from_f64_retain` keeps about 96 bits of such a value, not all of it,
//! but that cannot move the rounding: `m × 10⁴` has exactly four factors of two, so the value
//! times 10⁴ is a half-integer only when `k = 5` (where nothing is dropped), and otherwise is at
//! least `2^(4-k)` from one, far more than the bits dropped from a value below
//! `MAGNITUDE_MAX` (`tests` hold it to `from_f64_retain` on random floats and on every tie).
//! Anything else (zero, integers, tiny or huge values, NaN) takes the general conversion.

use rust_decimal::Decimal;

/// The most binary places the shortcut takes: `m × 10⁴` stays below 2^67 and its rounding far
/// from what `from_f64_retain` drops.
const K_MAX: i32 = 60;
/// Values at or above it take the general conversion.
const MAGNITUDE_MAX: f64 = 1024.0;
/// Decimal places of the result.
const PLACES: u32 = 4;
const TEN_TO_PLACES: u128 = 10_000;

/// `x` to four places: `Decimal::from_f64_retain(x).unwrap_or_default().round_dp(4)`.
pub(crate) fn to_four_places(x: f64) -> Decimal {
    shortcut(x).unwrap_or_else(|| general(x))
}

/// The general conversion, what [`to_four_places`] is the same as.
fn general(x: f64) -> Decimal {
    Decimal::from_f64_retain(x)
        .unwrap_or_default()
        .round_dp(PLACES)
}

fn shortcut(x: f64) -> Option<Decimal> {
    if !(x.is_finite() && x != 0.0 && x.abs() < MAGNITUDE_MAX) {
        return None;
    }
    let bits = x.to_bits();
    let negative = bits >> 63 == 1;
    let biased = i32::try_from((bits >> 52) & 0x7ff).ok()?;
    let fraction = bits & ((1 << 52) - 1);
    // Subnormals (biased 0) are far below anything four places keep: the general way.
    if biased == 0 {
        return None;
    }
    let mantissa = fraction | (1 << 52);
    // x = mantissa × 2^(biased − 1075); made odd, x = m × 2^-k.
    let zeros = mantissa.trailing_zeros();
    let m = u128::from(mantissa >> zeros);
    let k = 1075 - biased - i32::try_from(zeros).ok()?;
    let magnitude = match k {
        ..=0 => return None,
        1..=4 => {
            // Exactly k places: m × 5^k / 10^k.
            let k = u32::try_from(k).ok()?;
            let digits = i128::try_from(m * 5_u128.pow(k)).ok()?;
            return Some(signed(Decimal::from_i128_with_scale(digits, k), negative));
        }
        5..=K_MAX => {
            let k = u32::try_from(k).ok()?;
            let scaled = m * TEN_TO_PLACES;
            let quotient = scaled >> k;
            let remainder = scaled & ((1_u128 << k) - 1);
            let half = 1_u128 << (k - 1);
            let up = remainder > half || (remainder == half && quotient & 1 == 1);
            quotient + u128::from(up)
        }
        _ => return None,
    };
    let digits = i128::try_from(magnitude).ok()?;
    Some(signed(
        Decimal::from_i128_with_scale(digits, PLACES),
        negative,
    ))
}

fn signed(d: Decimal, negative: bool) -> Decimal {
    if negative { -d } else { d }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Same value and same scale: the bytes a sum of them is written with.
    fn same(x: f64) {
        let (fast, general) = (to_four_places(x), general(x));
        assert_eq!(
            (fast, fast.scale()),
            (general, general.scale()),
            "{x:e} ({:#x})",
            x.to_bits()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn an_hba1c_is_rounded_to_four_places_as_the_general_conversion_rounds_it(
            x in 3.0_f64..20.0,
            wide in 0.001_f64..1024.0
        ) {
            same(x);
            same(wide);
            same(-x);
        }

        #[test]
        fn any_float_is_rounded_as_the_general_conversion_rounds_it(bits in any::<u64>()) {
            same(f64::from_bits(bits));
        }

        #[test]
        fn a_value_of_few_binary_places_keeps_its_own_scale(whole in 0_u32..1100, j in 0_u32..64) {
            same(f64::from(whole) + f64::from(j) / 64.0);
        }
    }

    #[test]
    fn every_half_way_value_is_rounded_to_the_even_fourth_place() {
        // x × 10⁴ is a half-integer exactly at odd multiples of 1/32 (k = 5).
        for j in (1..20 * 32).step_by(2) {
            let x = f64::from(j) / 32.0;
            same(x);
            same(-x);
        }
        assert_eq!(to_four_places(6.03125).to_string(), "6.0312");
        assert_eq!(to_four_places(6.09375).to_string(), "6.0938");
    }

    #[test]
    fn zero_nan_and_the_extremes_take_the_general_conversion() {
        for x in [
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 4.0,
            1e-300,
            1_023.999_999_999,
            1024.0,
            1e20,
            f64::MAX,
            7.0,
            0.1,
            1e-5,
            0.000_05,
            0.000_049_999_999_999,
        ] {
            same(x);
            same(-x);
        }
    }
}
