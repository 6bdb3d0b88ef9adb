//! The default population reproduces the Guizhou pilot's figures within stated tolerances
//! (4,000 members, a fixed seed; the sampling error of a share is then about 0.008).

#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use incentive_simulations::Population;
use incentive_simulations::calibration::{PILOT, behaviour_under, measure};

#[test]
fn the_default_population_reproduces_the_guizhou_pilot_figures()
-> Result<(), Box<dyn std::error::Error>> {
    let first = incentive_engine::Period::parse("2026-01")?;
    let model = Population::default();
    // The pilot's members answered to its plan: tangdaifu-smbg models it.
    let behaviour = behaviour_under(&model, &common::tangdaifu(), 1_000, 20_151_101, first)?;
    let got = measure(&model, &behaviour, 4_000, 20_151_101, first)?;
    let checks = [
        (
            "readings a member a month",
            got.readings_per_member_month,
            PILOT.readings_per_member_month,
            0.3,
        ),
        (
            "measuring every month",
            got.measuring_every_month_share,
            PILOT.measuring_every_month_share,
            0.03,
        ),
        (
            "at the frequency standard",
            got.frequency_standard_share,
            PILOT.frequency_standard_share,
            0.03,
        ),
        (
            "readings in target",
            got.readings_in_target_share,
            PILOT.readings_in_target_share,
            0.03,
        ),
        (
            "hyperglycaemic, first month",
            got.hyperglycaemia_first_month_share,
            PILOT.hyperglycaemia_first_month_share,
            0.03,
        ),
        (
            "hyperglycaemic, twelfth month",
            got.hyperglycaemia_last_month_share,
            PILOT.hyperglycaemia_last_month_share,
            0.03,
        ),
    ];
    let off: Vec<String> = checks
        .iter()
        .filter(|(_, got, want, tolerance)| (got - want).abs() > *tolerance)
        .map(|(name, got, want, tolerance)| {
            format!("{name}: {got:.4}, the pilot {want} ± {tolerance}")
        })
        .collect();
    assert!(off.is_empty(), "{off:#?}");
    Ok(())
}
