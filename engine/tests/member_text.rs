//! Member text in the member's language: reasons are message ids with arguments, the words come
//! from the package's and the engine's Fluent catalogs when a decision is shown, and nothing a
//! catalog says reaches a decision's bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use incentive_engine::Period;
use incentive_engine::locale::{ENGINE_LOCALES, ENGINE_MESSAGES};
use incentive_engine::policy::{
    Decision, EvaluationError, EvaluationInput, History, MemberProfile, Package, PolicySource,
    SourceFile, load,
};
use incentive_engine::readings::Readings;
use proptest::prelude::*;

const EN: &str = "policy-name = Fasting plan\nfasting-share = { PERCENT($share) } of your fasting readings were in target: { MONEY($paid) } back\ntier-gold = Gold\n";
const ZH: &str = "policy-name = 空腹控糖计划\nfasting-share = 您的空腹读数有 { PERCENT($share) } 在目标范围内：返还 { MONEY($paid) }\ntier-gold = 金卡\n";

/// A plan that pays `reward` with one message reason and a gold tier, capped at 30.00 a
/// period, with the catalogs given.
fn plan(reward: &str, locales: &[(&str, &str)]) -> PolicySource {
    let manifest = common::manifest("texts", "monthly", "[caps]\nper_period = 30.00\n");
    let rules = format!(
        "fn decide(record, member, history) {{\n    #{{ reward: {reward}, tier: \"gold\", reasons: [reason(\"fasting-share\", #{{ share: 85.714285714285714285714285714, paid: {reward} }})] }}\n}}\n"
    );
    let mut files = vec![
        SourceFile::new("policy.toml", manifest),
        SourceFile::new("rules.rhai", rules),
    ];
    files.extend(
        locales
            .iter()
            .map(|(tag, text)| SourceFile::new(format!("locales/{tag}.ftl"), *text)),
    );
    PolicySource {
        name: "texts".into(),
        files,
    }
}

fn decide_for(package: &Package, member: &MemberProfile) -> Decision {
    package
        .policy
        .evaluate(&EvaluationInput {
            member,
            period: Period::parse("2026-03").unwrap(),
            readings: &Readings::default(),
            labs: &[],
            history: &History::default(),
        })
        .unwrap()
}

fn decide(package: &Package) -> Decision {
    decide_for(package, &MemberProfile::new(common::member_id("M1")))
}

/// The warnings about member text (a package of no cases is also warned of that).
fn warnings(source: &PolicySource) -> Vec<String> {
    load(source)
        .unwrap()
        .warnings
        .iter()
        .filter(|w| w.code == "locale-message")
        .map(ToString::to_string)
        .collect()
}

fn errors(source: &PolicySource) -> String {
    load(source).unwrap_err().to_string()
}

#[test]
fn the_engines_catalogs_have_every_engine_message_in_every_engine_locale_and_parse() {
    for (tag, text) in [
        ("en", include_str!("../locales/en.ftl")),
        ("zh-CN", include_str!("../locales/zh-CN.ftl")),
    ] {
        assert!(ENGINE_LOCALES.contains(&tag));
        let resource = fluent_syntax::parser::parse(text)
            .unwrap_or_else(|(_, e)| panic!("engine/locales/{tag}.ftl does not parse: {e:?}"));
        let ids: Vec<&str> = resource
            .body
            .iter()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name),
                _ => None,
            })
            .collect();
        for id in ENGINE_MESSAGES {
            assert!(ids.contains(&id), "engine/locales/{tag}.ftl lacks `{id}`");
        }
        for id in &ids {
            assert!(
                ENGINE_MESSAGES.contains(id),
                "`{id}` in {tag} is not listed"
            );
        }
    }
}

#[test]
fn a_member_reads_the_reasons_the_engines_cap_and_their_status_in_their_language() {
    let package = load(&plan("42.50", &[("en", EN), ("zh-CN", ZH)])).unwrap();
    let d = decide(&package);
    let catalogs = &package.policy.catalogs;
    let zh = catalogs
        .member_view(catalogs.negotiate(&["zh-CN"]), &d)
        .to_text();
    assert_eq!(
        zh,
        "空腹控糖计划 · 2026-03\n奖励：¥30.00\n等级：金卡\n原因：\n  - 您的空腹读数有 85.7% 在目标范围内：返还 ¥42.50\n  - 按上限支付 ¥30.00：本计划每期最多支付 ¥30.00（规则计算为 ¥42.50）\n"
    );
    let en = catalogs
        .member_view(catalogs.negotiate(&["en-GB"]), &d)
        .to_text();
    assert_eq!(
        en,
        "Fasting plan · 2026-03\nreward: 30.00 CNY\nstatus: Gold\nwhy:\n  - 85.7% of your fasting readings were in target: 42.50 CNY back\n  - capped at 30.00 CNY: the plan pays at most 30.00 CNY a period (the rules gave 42.50 CNY)\n"
    );
}

#[test]
fn a_rounding_step_is_staffs_and_not_shown_to_the_member() {
    let package = load(&plan(
        "14.285714285714285714285714286",
        &[("en", EN), ("zh-CN", ZH)],
    ))
    .unwrap();
    let d = decide(&package);
    let catalogs = &package.policy.catalogs;
    let zh = catalogs.negotiate(&["zh-CN"]);
    let staff = catalogs.explanation(zh, &d);
    assert!(
        staff
            .iter()
            .any(|l| l.starts_with("14.285714285714285714285714286 CNY 舍入为 ¥14.29")),
        "{staff:?}"
    );
    let member = catalogs.member_view(zh, &d);
    assert_eq!(member.why.len(), 1, "{:?}", member.why);
    assert_eq!(member.reward, "奖励：¥14.29");
}

#[test]
fn the_locale_asked_for_wins_then_the_members_then_the_apps_then_english() {
    let package = load(&plan("10", &[("en", EN), ("zh-CN", ZH)])).unwrap();
    let c = &package.policy.catalogs;
    let tag = |i| c.locale_tag(i);
    assert_eq!(tag(c.for_reader(Some("en"), Some("zh-CN"), &["zh"])), "en");
    assert_eq!(tag(c.for_reader(None, Some("zh-CN"), &["en-US"])), "zh-CN");
    assert_eq!(tag(c.for_reader(None, None, &["fr-FR", "zh"])), "zh-CN");
    assert_eq!(
        tag(c.for_reader(None, None, &["fr-FR", "not a tag!"])),
        "en"
    );
    assert_eq!(tag(c.for_reader(None, None, &[])), "en");
}

#[test]
fn a_package_without_catalogs_shows_its_text_as_written_and_the_engines_lines_in_either_language() {
    let source = common::saying(
        &common::manifest("plain", "monthly", "[caps]\nper_period = 0.00\n"),
        "\"测量达标\"",
        "\"x\"",
    );
    let package = load(&source).unwrap();
    let c = &package.policy.catalogs;
    assert_eq!(c.locales(), ["en", "zh-CN"]);
    assert!(!c.are_the_packages());
    let d = decide(&package);
    let view = c.member_view(c.negotiate(&["zh-CN"]), &d);
    assert_eq!(view.why, ["测量达标"]);
    assert_eq!(view.title, "plain · 2026-03");
}

#[test]
fn a_package_may_word_an_engine_line_its_own_way() {
    let own = format!("{EN}engine-capped-period = we pay up to {{ MONEY($cap) }} a month\n");
    let package = load(&plan("42.50", &[("en", &own)])).unwrap();
    let d = decide(&package);
    let c = &package.policy.catalogs;
    assert_eq!(
        c.explanation(c.negotiate(&["en"]), &d)[1],
        "we pay up to 30.00 CNY a month"
    );
}

#[test]
fn a_reason_a_locale_lacks_is_a_warning_at_the_call_and_the_locale_missing_it_is_named() {
    let zh_without = "policy-name = 空腹控糖计划\ntier-gold = 金卡\n";
    let w = warnings(&plan("10", &[("en", EN), ("zh-CN", zh_without)]));
    assert!(
        w.iter().any(|w| w.contains("rules.rhai:2:")
            && w.contains("reason `fasting-share` has no text in locales/zh-CN.ftl")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains("locales/zh-CN.ftl has no message `fasting-share`")),
        "{w:?}"
    );
    let none = warnings(&plan("10", &[]));
    assert!(
        none.iter()
            .any(|w| w
                .contains("reason `fasting-share` has no text: the package has no locales/*.ftl")),
        "{none:?}"
    );
    assert!(warnings(&plan("10", &[("en", EN), ("zh-CN", ZH)])).is_empty());
}

#[test]
fn a_broken_catalog_is_an_error_at_its_line_and_column() {
    let broken = "policy-name = Plan\nfasting-share = { $share\n";
    let e = errors(&plan("10", &[("en", broken)]));
    // The placeable left open is found where the file ends.
    assert!(
        e.contains("locales/en.ftl:3:1: error: Expected a token starting with \"}\""),
        "{e}"
    );
    let misspelt = format!("{EN}engine-caped-period = x\n");
    let e = errors(&plan("10", &[("en", &misspelt)]));
    assert!(
        e.contains("locales/en.ftl:4:1")
            && e.contains("`engine-caped-period` is not one of the engine's messages"),
        "{e}"
    );
    assert!(e.contains("did you mean `engine-capped-period`?"), "{e}");
    let e = errors(&plan("10", &[("english", EN)]));
    assert!(
        e.contains("`locales/english.ftl` is not named by a language tag"),
        "{e}"
    );
    let e = errors(&plan("10", &[("zh-cn", ZH)]));
    assert!(
        e.contains("`locales/zh-cn.ftl` names its locale `zh-cn`; write it `locales/zh-CN.ftl`"),
        "{e}"
    );
}

#[test]
fn a_bad_reason_fails_the_evaluation_naming_the_id_or_argument() {
    // The bytes a reason may take: an argument of 1,100 bytes makes a message of 1,102.
    let long = format!("reason(\"x\", #{{ a: \"{}\" }})", "y".repeat(1100));
    let err = reason_error(&long);
    assert!(
        err.contains("gave a reason of 1102 bytes; each is at most 1024 (decision_text_bytes_max)"),
        "{err}"
    );
    // Named where the script made it: `reason(` on line 2.
    match reason_error_of(&long) {
        EvaluationError::BadDecision {
            line: Some(2),
            column: Some(c),
            ..
        } => assert!(c > 20, "column {c}"),
        other => panic!("not placed at the reason: {other:?}"),
    }
    for (call, want) in [
        (
            "reason(\"1\" + \"st\")",
            "reason(\"1st\"): a message id is a letter",
        ),
        ("reason(\"x\", #{ a: () })", "argument `a` is `()`"),
        ("reason(\"x\", #{ a: [1] })", "argument `a` is array"),
        (
            "reason(\"x\", #{ a0: 1, a1: 1, a2: 1, a3: 1, a4: 1, a5: 1, a6: 1, a7: 1, a8: 1, a9: 1, a10: 1, a11: 1, a12: 1, a13: 1, a14: 1, a15: 1, a16: 1 })",
            "reason(\"x\") has 17 arguments; a message takes at most 16",
        ),
    ] {
        let err = reason_error(call);
        assert!(err.contains(want), "{call}: {err}");
        assert!(err.contains("rules.rhai:2:"), "{call}: {err}");
    }
}

/// What evaluating member M1 under a plan whose reason is `call` fails with.
fn reason_error(call: &str) -> String {
    reason_error_of(call).to_string()
}

fn reason_error_of(call: &str) -> EvaluationError {
    let manifest = common::manifest("bad", "monthly", "");
    let rules = format!(
        "fn decide(record, member, history) {{\n    let r = if member.id == \"M1\" {{ {call} }} else {{ \"ok\" }};\n    #{{ reward: 0, reasons: [r] }}\n}}\n"
    );
    let source = PolicySource {
        name: "bad".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
        ],
    };
    let package = load(&source).unwrap();
    package
        .policy
        .evaluate(&EvaluationInput {
            member: &MemberProfile::new(common::member_id("M1")),
            period: Period::parse("2026-03").unwrap(),
            readings: &Readings::default(),
            labs: &[],
            history: &History::default(),
        })
        .unwrap_err()
}

#[test]
fn a_reasons_argument_may_be_called_reward_without_being_taken_for_the_decision() {
    let manifest = common::manifest("args", "monthly", "");
    let rules = "fn decide(record, member, history) {\n    let r = reason(\"paid\", #{ reward: 5, extra: 1 });\n    #{ reward: 5, reasons: [r] }\n}\n";
    let package = load(&PolicySource {
        name: "args".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
            SourceFile::new("locales/en.ftl", "paid = { MONEY($reward) } paid"),
        ],
    })
    .unwrap();
    let d = decide(&package);
    let c = &package.policy.catalogs;
    assert_eq!(c.explanation(0, &d), ["5.00 CNY paid"]);
}

#[test]
fn a_reason_naming_no_possible_message_is_an_error_where_the_package_loads() {
    let manifest = common::manifest("bad", "monthly", "");
    let rules =
        "fn decide(record, member, history) {\n    #{ reward: 0, reasons: [reason(\"1st\")] }\n}\n";
    let e = errors(&PolicySource {
        name: "bad".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
        ],
    });
    assert!(
        e.contains("rules.rhai:2:") && e.contains("`1st` is not a message id"),
        "{e}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Showing a decision in any locale, or correcting a translation, never changes the
    /// decision's bytes, its policy's content hash or its input hash.
    #[test]
    fn a_decisions_bytes_and_hash_do_not_depend_on_the_locale_it_is_shown_in(
        cents in 0u32..10_000,
        asked in prop::sample::select(vec!["en", "zh-CN", "zh", "fr", "en-US", "", "x-bad tag"]),
        fix in "[a-z ]{0,20}",
    ) {
        let reward = format!("{}.{:02}", cents / 100, cents % 100);
        let a = load(&plan(&reward, &[("en", EN), ("zh-CN", ZH)])).unwrap();
        let corrected = ZH.replace("返还", &format!("返还{fix}"));
        let b = load(&plan(&reward, &[("en", EN), ("zh-CN", &corrected)])).unwrap();
        let before = decide(&a).to_json();
        let c = &a.policy.catalogs;
        let shown = c.member_view(c.negotiate(&[asked]), &decide(&a));
        let _ = c.explanation(c.negotiate(&[asked]), &decide(&a));
        prop_assert!(!shown.why.is_empty());
        prop_assert_eq!(decide(&a).to_json(), before.clone());
        prop_assert_eq!(decide(&b).to_json(), before);
        prop_assert_eq!(&a.policy.content_hash, &b.policy.content_hash);
    }
}
