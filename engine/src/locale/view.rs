//! What a decision shows a member, in their language: the plan, what they get, the premium
//! change where the plan has one, their status and points, and why — the engine's rounding
//! steps, flags, codes and hashes are staff's.

use super::catalogs::{Catalogs, STAFF_ONLY_MESSAGES};
use crate::policy::Decision;
use crate::policy::explanation::{Line, Message, is_identifier};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What of a decision its member view reads: from a [`Decision`], or from a decision's stored
/// JSON (its other fields are passed over), so a stored decision is shown without its inputs.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Shows {
    pub policy_id: String,
    pub period: String,
    pub reward: Decimal,
    pub premium_adjustment_percent: Decimal,
    pub tier: Option<String>,
    pub points: i64,
    pub explanation: Vec<Line>,
}

impl Shows {
    pub fn from_json(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }
}

impl From<&Decision> for Shows {
    fn from(d: &Decision) -> Self {
        Self {
            policy_id: d.policy_id.clone(),
            period: d.period.clone(),
            reward: d.reward,
            premium_adjustment_percent: d.premium_adjustment_percent,
            tier: d.tier.clone(),
            points: d.points,
            explanation: d.explanation.clone(),
        }
    }
}

/// A decision as a member reads it, every text in one locale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberView {
    /// The locale it is written in, such as `zh-CN`.
    pub locale: String,
    /// The plan's name (`policy-name` in the catalog, else its id) and the period.
    pub title: String,
    pub reward: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub premium_change: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<String>,
    pub why_heading: String,
    pub why: Vec<String>,
}

fn label(
    catalogs: &Catalogs,
    locale: usize,
    id: &'static str,
    args: &[(&'static str, String)],
) -> String {
    catalogs.message(locale, &Message::engine(id, args)).0
}

impl Catalogs {
    /// The explanation's lines in locale `index`, each as the member reads it.
    pub fn explanation(&self, index: usize, decision: &Decision) -> Vec<String> {
        decision
            .explanation
            .iter()
            .map(|l| self.line(index, l))
            .collect()
    }

    /// What the member is shown, in locale `index` (see [`Catalogs::negotiate`]).
    pub fn member_view(&self, index: usize, d: &Decision) -> MemberView {
        self.member_view_of(index, &Shows::from(d))
    }

    /// [`Catalogs::member_view`] of a stored decision.
    pub fn member_view_of(&self, index: usize, d: &Shows) -> MemberView {
        let title_message = Message::engine("policy-name", &[]);
        let (name, missing) = self.message(index, &title_message);
        let name = if missing.is_empty() {
            name
        } else {
            d.policy_id.clone()
        };
        let premium_change = (!d.premium_adjustment_percent.is_zero()).then(|| {
            let sign = if d.premium_adjustment_percent.is_sign_positive() {
                "+"
            } else {
                ""
            };
            label(
                self,
                index,
                "member-premium-change",
                &[("change", format!("{sign}{}", d.premium_adjustment_percent))],
            )
        });
        let status = d.tier.as_ref().map(|t| {
            // A catalog may name a tier (`tier-gold = 金卡`); otherwise it is shown as the
            // script wrote it.
            let id = format!("tier-{t}");
            let shown = if is_identifier(&id) && self.has(index, &id) {
                self.message(index, &Message::named(id)).0
            } else {
                t.clone()
            };
            label(self, index, "member-status", &[("status", shown)])
        });
        let points = (d.points != 0).then(|| {
            label(
                self,
                index,
                "member-points",
                &[("points", d.points.to_string())],
            )
        });
        let why = d
            .explanation
            .iter()
            .filter(|l| {
                !l.message_id()
                    .is_some_and(|id| STAFF_ONLY_MESSAGES.contains(&id))
            })
            .map(|l| self.line(index, l))
            .collect();
        MemberView {
            locale: self.locale_tag(index),
            title: format!("{name} · {}", d.period),
            reward: label(
                self,
                index,
                "member-reward",
                &[("reward", d.reward.to_string())],
            ),
            premium_change,
            status,
            points,
            why_heading: label(self, index, "member-why", &[]),
            why,
        }
    }

    /// Every problem showing the decision in each locale meets: a message an explanation
    /// names that a locale lacks, an argument a message uses that the decision does not carry.
    pub fn problems_showing(&self, d: &Decision) -> Vec<String> {
        let mut out = Vec::new();
        for index in 0..self.catalogs.len() {
            for line in &d.explanation {
                if let Line::Message(m) = line {
                    if !self.has(index, &m.id)
                        && self.are_the_packages()
                        && !super::ENGINE_MESSAGES.contains(&m.id.as_str())
                    {
                        out.push(format!("{}: no message `{}`", self.locale_tag(index), m.id));
                    }
                    out.extend(self.message(index, m).1);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

impl MemberView {
    /// The view as lines of text, for a terminal or a letter.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n{}\n", self.title, self.reward);
        for line in [&self.premium_change, &self.status, &self.points]
            .into_iter()
            .flatten()
        {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&self.why_heading);
        out.push('\n');
        for line in &self.why {
            out.push_str(&format!("  - {line}\n"));
        }
        out
    }
}
