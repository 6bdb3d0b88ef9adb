//! Deciding a period's members on every core gives the books one-by-one deciding gives, byte
//! for byte — also when the pool runs out in the middle of them, under either of the plan's
//! ways of handling a short pool (cut the reward, or refuse it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_engine::Period;
use incentive_simulations::Population;
use incentive_simulations::book::{Book, MemberInput};
use incentive_simulations::response::Behaviour;
use incentive_simulations::synth::{Draw, member, period_data};

fn books_agree(manifest_edit: impl Fn(&str) -> String) -> incentive_simulations::run::PlanTotals {
    books_agree_in(&Population::default(), manifest_edit)
}

fn books_agree_in(
    model: &Population,
    manifest_edit: impl Fn(&str) -> String,
) -> incentive_simulations::run::PlanTotals {
    let policy = package_with(&repo().join("policies/tangdaifu-smbg"), manifest_edit);
    let model = model.clone();
    let first = Period::parse("2026-01").unwrap();
    let who: Vec<_> = (0..300)
        .map(|m| member(&model, 5, m, 0, first.first_day().unwrap()).unwrap())
        .collect();
    let mut one_by_one = Book::new(&policy, who.len(), 4);
    let mut together = Book::new(&policy, who.len(), 4);
    let mut period = first;
    for k in 0..4 {
        let data: Vec<_> = who
            .iter()
            .enumerate()
            .map(|(m, w)| {
                let draw = Draw {
                    seed: 5,
                    member: m as u64,
                    replication: 0,
                };
                period_data(
                    &model,
                    w,
                    &Behaviour::NONE,
                    draw,
                    k,
                    period,
                    policy.manifest.timezone,
                )
                .unwrap()
            })
            .collect();
        one_by_one.start_period();
        together.start_period();
        for (m, (w, d)) in who.iter().zip(&data).enumerate() {
            one_by_one
                .decide(m, &w.profile, period, &d.readings, &[])
                .unwrap();
        }
        // In two uneven chunks, as a run splits a population.
        let inputs: Vec<MemberInput> = who
            .iter()
            .zip(&data)
            .map(|(w, d)| MemberInput {
                profile: &w.profile,
                readings: &d.readings,
                labs: &[],
            })
            .collect();
        together.decide_many(0, period, &inputs[..117]).unwrap();
        together.decide_many(117, period, &inputs[117..]).unwrap();
        one_by_one.end_period(k as usize);
        together.end_period(k as usize);
        period = period.next();
    }
    let (a, a_members) = one_by_one.finish(0);
    let (b, b_members) = together.finish(0);
    assert_eq!(a, b);
    assert_eq!(a_members, b_members);
    a
}

#[test]
fn a_pool_that_runs_out_mid_period_is_cut_as_one_by_one_cuts_it() {
    let t = books_agree(|m| m.replace("pool_budget = 200000000.00", "pool_budget = 310.00"));
    assert_eq!(t.pool_exhausted_in, Some(0), "{t:?}");
}

#[test]
fn a_pool_that_runs_out_mid_period_refuses_as_one_by_one_refuses() {
    let t = books_agree(|m| {
        m.replace(
            "pool_budget = 200000000.00",
            "pool_budget = 315.00\nwhen_short = \"refuse\"",
        )
    });
    // 5 left in the pool, less than any reward: every later one is refused whole.
    assert_eq!(t.reward, rust_decimal::Decimal::from(310), "{t:?}");
    assert!(t.reward_by_period[1..].iter().all(|r| r.is_zero()), "{t:?}");
}

/// tangdaifu-smbg with each family sharing 40 CNY a year (a controlled month pays 30).
fn family_plan(manifest: &str) -> String {
    manifest.replace(
        "\n[caps]\n",
        "\n[attributes]\nfamily_id = { type = \"text\", optional = true }\n\n[caps]\ngroup = \"family_id\"\nper_group_per_year = 40.00\n",
    )
}

#[test]
fn families_sharing_a_yearly_cap_are_decided_on_every_core_as_one_by_one_decides_them() {
    let families = Population::from_toml(
        "[members.groups]\nattribute = \"family_id\"\nsize = 3\n",
        "families.toml",
    )
    .unwrap();
    let capped = books_agree_in(&families, family_plan);
    let uncapped = books_agree_in(&families, str::to_owned);
    // 300 members in 100 families of three: no family past 40 in the year.
    assert!(
        capped.reward <= rust_decimal::Decimal::from(4_000),
        "{capped:?}"
    );
    assert!(capped.reward > rust_decimal::Decimal::ZERO);
    assert!(capped.reward < uncapped.reward, "{capped:?}\n{uncapped:?}");
}

#[test]
fn a_family_of_more_than_a_hundred_or_none_is_refused_by_name() {
    for (toml, want) in [
        ("size = 0", "members.groups.size = 0 must be 1 to 100"),
        ("size = 101", "members.groups.size = 101 must be 1 to 100"),
    ] {
        let e = Population::from_toml(
            &format!("[members.groups]\nattribute = \"family_id\"\n{toml}\n"),
            "families.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn members_past_the_end_of_the_book_are_refused_by_their_indices_and_nothing_is_booked() {
    let policy = package_with(&repo().join("policies/tangdaifu-smbg"), |m| m.to_owned());
    let model = Population::default();
    let first = Period::parse("2026-01").unwrap();
    let who = member(&model, 5, 0, 0, first.first_day().unwrap()).unwrap();
    let readings = incentive_engine::Readings::default();
    let input = MemberInput {
        profile: &who.profile,
        readings: &readings,
        labs: &[],
    };
    let mut book = Book::new(&policy, 3, 1);
    book.start_period();
    for at in [2, 3, usize::MAX] {
        let err = book
            .decide_many(at, first, &[input, input])
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the book's 3"), "{err}");
    }
    let err = book
        .decide(3, &who.profile, first, &readings, &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("member index 3 is outside the book's 3 members"),
        "{err}"
    );
    let (totals, paid) = book.finish(0);
    assert_eq!(totals.reward_by_period, [rust_decimal::Decimal::ZERO]);
    assert_eq!(paid.len(), 3);
}
