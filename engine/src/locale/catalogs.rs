//! A package's catalogs: one Fluent bundle per locale it ships, each holding the engine's
//! messages for that language (or English where the engine has none) overridden by the
//! package's own. Read and checked when the package loads, every problem at its line.

use super::numbers::{NumberStyle, decimal_of, shown};
use crate::policy::diagnostics::{Diagnostics, SourceFile};
use crate::policy::explanation::{Line, Message, is_identifier};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};
use unic_langid::LanguageIdentifier;

type Bundle = FluentBundle<Arc<FluentResource>>;

/// The locales the engine's own lines come in.
pub const ENGINE_LOCALES: [&str; 2] = ["en", "zh-CN"];

const ENGINE_FTL: [(&str, &str); 2] = [
    ("en", include_str!("../../locales/en.ftl")),
    ("zh-CN", include_str!("../../locales/zh-CN.ftl")),
];

/// The engine's own message ids; a package may give any of them its own words, and no other
/// id of these prefixes.
pub const ENGINE_MESSAGES: [&str; 20] = [
    "engine-capped-period",
    "engine-capped-year",
    "engine-capped-policy-year",
    "engine-refused-year",
    "engine-refused-policy-year",
    "engine-capped-group",
    "engine-refused-group",
    "engine-capped-pool",
    "engine-refused-pool",
    "engine-whole-units",
    "engine-premium-limited",
    "engine-loading-floor",
    "engine-loading-cap",
    "engine-rounded",
    "engine-premium-rounded",
    "member-reward",
    "member-premium-change",
    "member-status",
    "member-points",
    "member-why",
];

/// Engine steps a member is not shown: a fraction of a minor unit is nobody's reason.
pub const STAFF_ONLY_MESSAGES: [&str; 2] = ["engine-rounded", "engine-premium-rounded"];

/// The engine's catalogs, parsed once: they ship with the binary and a test holds them valid.
static ENGINE: LazyLock<Vec<(LanguageIdentifier, Arc<FluentResource>)>> = LazyLock::new(|| {
    ENGINE_FTL
        .iter()
        .filter_map(|(tag, text)| {
            let locale: LanguageIdentifier = tag.parse().ok()?;
            let resource = FluentResource::try_new((*text).to_owned()).unwrap_or_else(|(r, _)| r);
            Some((locale, Arc::new(resource)))
        })
        .collect()
});

/// One locale's messages.
pub(crate) struct Catalog {
    pub(crate) locale: LanguageIdentifier,
    bundle: Bundle,
    /// The package's own message ids in this locale.
    ids: BTreeSet<String>,
}

/// Every locale a package can show a decision in, and the one it falls back to.
pub struct Catalogs {
    pub(crate) catalogs: Vec<Catalog>,
    default: usize,
    /// Whether the locales are the package's own (else the engine's, for a package of none).
    own: bool,
}

impl std::fmt::Debug for Catalogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogs")
            .field("locales", &self.locales())
            .field("default", &self.default_locale())
            .finish()
    }
}

fn engine_resource(locale: &LanguageIdentifier) -> Arc<FluentResource> {
    let exact = ENGINE.iter().find(|(l, _)| l == locale);
    let language = ENGINE.iter().find(|(l, _)| l.language == locale.language);
    exact
        .or(language)
        .or(ENGINE.first())
        .map(|(_, r)| Arc::clone(r))
        .unwrap_or_else(|| {
            Arc::new(FluentResource::try_new(String::new()).unwrap_or_else(|(r, _)| r))
        })
}

fn add_functions(bundle: &mut Bundle, style: &Arc<NumberStyle>) {
    let money = Arc::clone(style);
    let number = Arc::clone(style);
    let percent = Arc::clone(style);
    // A function that cannot read its argument writes it as it is; Fluent reports no error
    // for a function's own failure, so a case renders to show it.
    let _ = bundle.add_function("MONEY", move |positional, _named| {
        match positional.first().and_then(decimal_of) {
            Some(d) => FluentValue::String(money.money(d).into()),
            None => positional.first().cloned().unwrap_or(FluentValue::Error),
        }
    });
    let _ = bundle.add_function("NUMBER", move |positional, named| {
        match positional.first().and_then(decimal_of) {
            Some(d) => FluentValue::String(shown(&number, d, named).into()),
            None => positional.first().cloned().unwrap_or(FluentValue::Error),
        }
    });
    let _ = bundle.add_function("PERCENT", move |positional, named| {
        match positional.first().and_then(decimal_of) {
            Some(d) => FluentValue::String(super::numbers::percent(&percent, d, named).into()),
            None => positional.first().cloned().unwrap_or(FluentValue::Error),
        }
    });
}

fn bundle(
    locale: &LanguageIdentifier,
    own: Option<Arc<FluentResource>>,
    style: &Arc<NumberStyle>,
) -> Bundle {
    let mut b = Bundle::new_concurrent(vec![locale.clone()]);
    // No bidi isolation marks around arguments: the text goes to terminals, JSON and apps
    // that would show them as stray characters.
    b.set_use_isolating(false);
    add_functions(&mut b, style);
    let _ = b.add_resource(engine_resource(locale));
    if let Some(own) = own {
        b.add_resource_overriding(own);
    }
    b
}

fn message_ids(resource: &FluentResource) -> impl Iterator<Item = (&str, std::ops::Range<usize>)> {
    resource.entries().filter_map(|e| match e {
        ast::Entry::Message(m) => {
            let start = resource.source().find(m.id.name).unwrap_or(0);
            Some((m.id.name, start..start + m.id.name.len()))
        }
        _ => None,
    })
}

impl Catalogs {
    /// The package's `locales/*.ftl`, checked: each a language tag, each parsing, each message
    /// of the engine's prefixes one the engine has. A package of none shows decisions in the
    /// engine's locales, with its script's text as written.
    pub fn read(
        files: &[SourceFile],
        currency: &str,
        places: u32,
        diags: &mut Diagnostics,
    ) -> Self {
        let mut catalogs: Vec<Catalog> = Vec::new();
        for file in files
            .iter()
            .filter(|f| f.name.starts_with("locales/") && f.name.ends_with(".ftl"))
        {
            let tag = file
                .name
                .trim_start_matches("locales/")
                .trim_end_matches(".ftl");
            // A tag as written in BCP 47's canonical form, of a two- or three-letter language:
            // the name is how readers' locales are matched, so `english` or `zh-cn` would
            // match nobody the author meant.
            let parsed = tag.parse::<LanguageIdentifier>().ok().filter(|l| {
                (2..=3).contains(&l.language.as_str().len()) && l.language.as_str() != "und"
            });
            let Some(locale) = parsed else {
                diags
                    .error(
                        "locale-file",
                        file,
                        0..0,
                        format!("`{}` is not named by a language tag", file.name),
                    )
                    .help(
                        "name a catalog by its locale, such as locales/en.ftl or locales/zh-CN.ftl",
                    );
                continue;
            };
            if locale != tag {
                diags.error(
                    "locale-file",
                    file,
                    0..0,
                    format!(
                        "`{}` names its locale `{tag}`; write it `locales/{locale}.ftl`",
                        file.name
                    ),
                );
                continue;
            }
            if catalogs.iter().any(|c| c.locale == locale) {
                diags.error(
                    "locale-file",
                    file,
                    0..0,
                    format!("`{}` is a second catalog for {locale}", file.name),
                );
                continue;
            }
            let resource = match FluentResource::try_new(file.text.clone()) {
                Ok(r) => r,
                Err((r, errors)) => {
                    for e in errors {
                        diags.error("locale-syntax", file, e.pos.clone(), e.kind.to_string());
                    }
                    r
                }
            };
            let mut ids = BTreeSet::new();
            for (id, span) in message_ids(&resource) {
                let engine_prefixed = id.starts_with("engine-") || id.starts_with("member-");
                if engine_prefixed && !ENGINE_MESSAGES.contains(&id) {
                    let d = diags.error(
                        "locale-message",
                        file,
                        span.clone(),
                        format!("`{id}` is not one of the engine's messages, which `engine-` and `member-` name"),
                    );
                    if let Some(near) = crate::policy::kept::closest(id, ENGINE_MESSAGES) {
                        d.help(format!("did you mean `{near}`?"));
                    }
                }
                if !engine_prefixed {
                    ids.insert(id.to_owned());
                }
            }
            let style = Arc::new(NumberStyle::new(&locale, currency, places));
            catalogs.push(Catalog {
                bundle: bundle(&locale, Some(Arc::new(resource)), &style),
                locale,
                ids,
            });
        }
        let own = !catalogs.is_empty();
        if !own {
            for tag in ENGINE_LOCALES {
                let Ok(locale) = tag.parse::<LanguageIdentifier>() else {
                    continue;
                };
                let style = Arc::new(NumberStyle::new(&locale, currency, places));
                catalogs.push(Catalog {
                    bundle: bundle(&locale, None, &style),
                    locale,
                    ids: BTreeSet::new(),
                });
            }
        }
        catalogs.sort_by_key(|c| c.locale.to_string());
        let default = catalogs
            .iter()
            .position(|c| c.locale.language.as_str() == "en")
            .unwrap_or(0);
        Self {
            catalogs,
            default,
            own,
        }
    }

    /// The locales a decision can be shown in, as tags.
    pub fn locales(&self) -> Vec<String> {
        self.catalogs.iter().map(|c| c.locale.to_string()).collect()
    }

    pub fn default_locale(&self) -> String {
        self.catalogs
            .get(self.default)
            .map(|c| c.locale.to_string())
            .unwrap_or_default()
    }

    /// Whether the locales are the package's (`locales/*.ftl`) rather than the engine's.
    pub fn are_the_packages(&self) -> bool {
        self.own
    }

    /// The best of the package's locales for what the reader asks for, in order of preference
    /// (`zh-CN`, `zh`, `en-GB` …; tags that do not parse are passed over); the package's
    /// default (English where it has it) when none matches.
    pub fn negotiate(&self, requested: &[&str]) -> usize {
        let requested: Vec<LanguageIdentifier> =
            requested.iter().filter_map(|r| r.parse().ok()).collect();
        let available: Vec<&LanguageIdentifier> = self.catalogs.iter().map(|c| &c.locale).collect();
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        chosen
            .first()
            .and_then(|l| self.catalogs.iter().position(|c| &c.locale == **l))
            .unwrap_or(self.default)
    }

    /// The locale to show a reader: the one asked for (`?locale=`, `--locale`), else the
    /// member's own (a `locale` attribute), else what their app accepts (`Accept-Language`,
    /// in order), else the package's default.
    pub fn for_reader(
        &self,
        asked: Option<&str>,
        member: Option<&str>,
        accepted: &[&str],
    ) -> usize {
        let requested: Vec<&str> = asked
            .into_iter()
            .chain(member)
            .chain(accepted.iter().copied())
            .collect();
        self.negotiate(&requested)
    }

    pub fn locale_tag(&self, index: usize) -> String {
        self.catalogs
            .get(index)
            .map(|c| c.locale.to_string())
            .unwrap_or_default()
    }

    /// A message in locale `index`, falling back to the default locale where that locale lacks
    /// it, and to the id with its arguments where no catalog has it. The problems Fluent met
    /// (an argument the message uses and the decision lacks …) come back beside the text.
    pub(crate) fn message(&self, index: usize, m: &Message) -> (String, Vec<String>) {
        let found = [index, self.default].into_iter().find_map(|i| {
            let c = self.catalogs.get(i)?;
            let msg = c.bundle.get_message(&m.id)?;
            Some((c, msg.value()?))
        });
        let Some((catalog, pattern)) = found else {
            let line = Line::Message(m.clone()).plain();
            return (line, vec![format!("no catalog has a message `{}`", m.id)]);
        };
        let mut args = FluentArgs::new();
        for (k, v) in m.args.iter() {
            // Whole numbers go to Fluent as numbers, so `[one]`/`[other]` select on them;
            // fractions stay their exact digits, for MONEY, NUMBER and PERCENT to write.
            match v.parse::<i64>() {
                Ok(i) if i.unsigned_abs() < (1 << 53) => args.set(k.as_str(), i),
                _ => args.set(k.as_str(), v.as_str()),
            }
        }
        let mut errors = Vec::new();
        let text = catalog
            .bundle
            .format_pattern(pattern, Some(&args), &mut errors)
            .into_owned();
        let errors = errors
            .into_iter()
            .map(|e| format!("{}: message `{}`: {e}", catalog.locale, m.id))
            .collect();
        (text, errors)
    }

    /// A line of an explanation in locale `index`.
    pub fn line(&self, index: usize, line: &Line) -> String {
        match line {
            Line::Text(t) => t.clone(),
            Line::Message(m) => self.message(index, m).0,
        }
    }

    /// Whether locale `index` has a message of its own (not by falling back) for `id`.
    pub fn has(&self, index: usize, id: &str) -> bool {
        self.catalogs.get(index).is_some_and(|c| {
            c.ids.contains(id) || (ENGINE_MESSAGES.contains(&id) && c.bundle.has_message(id))
        })
    }

    /// Each of the package's messages some locale has and another lacks, by the locale lacking
    /// it: members shown that locale read that line in the default language.
    pub(crate) fn gaps(&self) -> Vec<(String, String)> {
        let all: BTreeSet<&String> = self.catalogs.iter().flat_map(|c| &c.ids).collect();
        let mut out = Vec::new();
        for c in &self.catalogs {
            for id in &all {
                if !c.ids.contains(*id) {
                    out.push((c.locale.to_string(), (*id).clone()));
                }
            }
        }
        out
    }

    /// Checks a script's literal `reason("id", …)` calls against the catalogs: each locale
    /// lacking one is a warning at the call.
    pub(crate) fn check_reasons(
        &self,
        script: &SourceFile,
        reasons: &[(String, (usize, usize))],
        diags: &mut Diagnostics,
    ) {
        for (id, (line, col)) in reasons {
            let at = script.offset_of(*line, *col);
            if !is_identifier(id) {
                diags.error(
                    "locale-message",
                    script,
                    at..at,
                    format!(
                        "`{id}` is not a message id: a letter, then letters, digits, `_` or `-`"
                    ),
                );
                continue;
            }
            if !self.own {
                diags
                    .warning(
                        "locale-message",
                        script,
                        at..at,
                        format!("reason `{id}` has no text: the package has no locales/*.ftl, so members would read the id"),
                    )
                    .help(format!("add `{id} = …` to locales/en.ftl (and to each language the plan's members read)"));
                continue;
            }
            let lacking: Vec<String> = self
                .catalogs
                .iter()
                .filter(|c| !c.ids.contains(id) && !ENGINE_MESSAGES.contains(&id.as_str()))
                .map(|c| c.locale.to_string())
                .collect();
            if !lacking.is_empty() {
                diags
                    .warning(
                        "locale-message",
                        script,
                        at..at,
                        format!(
                            "reason `{id}` has no text in {}: members shown {} read it in {}",
                            lacking
                                .iter()
                                .map(|l| format!("locales/{l}.ftl"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            lacking.join(", "),
                            if lacking.contains(&self.default_locale()) {
                                "no language (the id itself)".to_owned()
                            } else {
                                self.default_locale()
                            }
                        ),
                    )
                    .help(format!("add `{id} = …` to each of those catalogs"));
            }
        }
    }
}
