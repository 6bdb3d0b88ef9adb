//! Numbers and money in a locale's style. The digits are the decision's own (a decimal, never a
//! float): rounding, where a message asks for it, is done on the decimal, and ICU's CLDR data
//! then writes it with the locale's separators and grouping.

use fluent_bundle::{FluentArgs, FluentValue};
use icu_decimal::DecimalFormatter;
use icu_decimal::input::Decimal as IcuDecimal;
use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;
use unic_langid::LanguageIdentifier;

/// How one catalog writes numbers and the plan's money.
#[derive(Debug)]
pub(crate) struct NumberStyle {
    formatter: Option<DecimalFormatter>,
    currency: String,
    /// Decimal places of the plan's minor unit (2 for 0.01, 0 for yen).
    places: u32,
    /// Where the currency goes: before the number as a symbol (`¥12.50`) or after it as its
    /// code (`12.50 CNY`).
    symbol: Option<&'static str>,
}

/// Currency symbols a locale writes before the number where the symbol is unambiguous to its
/// readers; elsewhere the ISO code follows the number, as insurers' statements do.
fn symbol(locale: &LanguageIdentifier, currency: &str) -> Option<&'static str> {
    match (locale.language.as_str(), currency) {
        ("zh", "CNY") => Some("¥"),
        ("ja", "JPY") => Some("￥"),
        _ => None,
    }
}

impl NumberStyle {
    pub(crate) fn new(locale: &LanguageIdentifier, currency: &str, places: u32) -> Self {
        let formatter = icu_locale_core::Locale::try_from_str(&locale.to_string())
            .ok()
            .and_then(|l| DecimalFormatter::try_new((&l).into(), Default::default()).ok());
        Self {
            formatter,
            currency: currency.to_owned(),
            places,
            symbol: symbol(locale, currency),
        }
    }

    /// The decimal's digits as written in this locale.
    pub(crate) fn number(&self, d: Decimal) -> String {
        let digits = d.to_string();
        match (&self.formatter, IcuDecimal::try_from_str(&digits)) {
            (Some(f), Ok(n)) => f.format_to_string(&n),
            _ => digits,
        }
    }

    /// An amount of the plan's currency: at least the minor unit's places, more only where
    /// the amount has them (an exact figure is never shown rounded).
    pub(crate) fn money(&self, d: Decimal) -> String {
        let mut d = d.normalize();
        if d.scale() < self.places {
            d.rescale(self.places);
        }
        let n = self.number(d);
        match self.symbol {
            Some(s) if d.is_sign_negative() => format!("-{s}{}", n.trim_start_matches(['-', '−'])),
            Some(s) => format!("{s}{n}"),
            None => format!("{n} {}", self.currency),
        }
    }
}

/// A number argument as the decision stores it (its decimal digits), or a number Fluent made.
pub(crate) fn decimal_of(value: &FluentValue) -> Option<Decimal> {
    match value {
        FluentValue::String(s) => Decimal::from_str(s).ok(),
        FluentValue::Number(n) => Decimal::from_str(&n.as_string()).ok(),
        _ => None,
    }
}

fn digits_option(named: &FluentArgs, name: &str) -> Option<u32> {
    match named.get(name) {
        Some(FluentValue::Number(n)) if n.value >= 0.0 && n.value <= 28.0 => {
            // INVARIANT: a whole number from 0 to 28, so the cast is exact.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "0..=28"
            )]
            Some(n.value as u32)
        }
        _ => None,
    }
}

/// `NUMBER($x, maximumFractionDigits: 1, minimumFractionDigits: 1)`: rounded half away from
/// zero (as a reader rounds) to at most the maximum, padded to the minimum.
pub(crate) fn shown(style: &NumberStyle, value: Decimal, named: &FluentArgs) -> String {
    shown_with(
        style,
        value,
        digits_option(named, "maximumFractionDigits"),
        digits_option(named, "minimumFractionDigits"),
    )
}

/// [`shown`] with the digits given: `PERCENT` defaults its maximum to one.
pub(crate) fn percent(style: &NumberStyle, value: Decimal, named: &FluentArgs) -> String {
    let max = digits_option(named, "maximumFractionDigits").or(Some(1));
    let min = digits_option(named, "minimumFractionDigits");
    format!("{}%", shown_with(style, value, max, min))
}

fn shown_with(style: &NumberStyle, value: Decimal, max: Option<u32>, min: Option<u32>) -> String {
    let mut d = value;
    if let Some(max) = max {
        d = d.round_dp_with_strategy(max, RoundingStrategy::MidpointAwayFromZero);
        d = d.normalize();
    }
    if let Some(min) = min
        && d.scale() < min
    {
        d.rescale(min);
    }
    style.number(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(tag: &str, currency: &str, places: u32) -> NumberStyle {
        NumberStyle::new(&tag.parse().unwrap_or_default(), currency, places)
    }

    #[test]
    fn money_is_written_in_the_locales_style_at_the_minor_unit_and_never_rounded() {
        let d = |s: &str| Decimal::from_str(s).unwrap_or_default();
        for (tag, currency, places, amount, want) in [
            ("en", "CNY", 2, "1234.5", "1,234.50 CNY"),
            ("zh-CN", "CNY", 2, "1234.5", "¥1,234.50"),
            ("zh-CN", "CNY", 2, "14.285714", "¥14.285714"),
            ("zh-CN", "NZD", 2, "50", "50.00 NZD"),
            ("en", "JPY", 0, "10000000", "10,000,000 JPY"),
            ("de", "EUR", 2, "1234.5", "1.234,50 EUR"),
        ] {
            assert_eq!(
                style(tag, currency, places).money(d(amount)),
                want,
                "{tag} {amount}"
            );
        }
    }

    #[test]
    fn number_rounds_half_away_from_zero_to_its_maximum_digits() {
        let mut named = FluentArgs::new();
        named.set("maximumFractionDigits", 1);
        let s = style("en", "CNY", 2);
        let d = |x: &str| Decimal::from_str(x).unwrap_or_default();
        assert_eq!(
            shown(&s, d("85.714285714285714285714285714"), &named),
            "85.7"
        );
        assert_eq!(shown(&s, d("12.25"), &named), "12.3");
        assert_eq!(shown(&s, d("80"), &named), "80");
        named.set("minimumFractionDigits", 1);
        assert_eq!(shown(&s, d("80"), &named), "80.0");
    }
}
