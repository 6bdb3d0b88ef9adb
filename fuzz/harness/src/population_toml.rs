//! Population models: `Population::from_toml` over arbitrary text and, for every model it
//! accepts, one member and one month of their readings drawn from it. A refused model is an
//! answer; a panic, a hang or running out of memory on an accepted one is a bug.

use chrono::NaiveDate;
use incentive_engine::Period;
use incentive_simulations::Population;
use incentive_simulations::synth::{Draw, member, period_data};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(model) = Population::from_toml(text, "fuzz.toml") else {
        return;
    };
    let (Some(enrolled_on), Ok(period)) = (
        NaiveDate::from_ymd_opt(2026, 1, 1),
        Period::parse("2026-03"),
    ) else {
        return;
    };
    let draw = Draw {
        seed: 7,
        member: 1,
        replication: 0,
    };
    let Ok(who) = member(
        &model,
        draw.seed,
        draw.member,
        draw.replication,
        enrolled_on,
    ) else {
        return;
    };
    // The largest response the model allows: the most readings and the largest fall.
    let behaviour = incentive_simulations::response::Behaviour::under_plan(&model, 1.0);
    let _ = period_data(
        &model,
        &who,
        &behaviour,
        draw,
        2,
        period,
        chrono_tz::Asia::Shanghai,
    );
}
