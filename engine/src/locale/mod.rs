//! Member text in the member's language. A decision's explanation holds message ids with their
//! arguments (policy::explanation); the words come from Project Fluent catalogs when a decision
//! is shown: the engine's own (its cap, rounding and premium lines and the labels of the member
//! view, in en and zh-CN, in `engine/locales/`) and the package's `locales/<tag>.ftl` (the
//! script's reasons, and the engine's lines in the insurer's own wording where it gives them).
//! Catalogs are not part of a policy's content hash: a corrected translation changes what a
//! member reads, never a decision's bytes.

mod catalogs;
mod numbers;
mod view;

pub use catalogs::{Catalogs, ENGINE_LOCALES, ENGINE_MESSAGES, STAFF_ONLY_MESSAGES};
pub use view::{MemberView, Shows};

/// Bytes of a language tag a reader may ask for: BCP 47's longest useful tags are far shorter.
pub const LOCALE_TAG_BYTES_MAX: usize = 35;
/// Languages of an `Accept-Language` header that are weighed; the rest are passed over.
pub const ACCEPTED_LANGUAGES_MAX: usize = 16;

/// Whether `tag` is a language tag a reader may ask for (`zh-CN`, `en`), within its limit.
pub fn is_locale_tag(tag: &str) -> bool {
    tag.len() <= LOCALE_TAG_BYTES_MAX && tag.parse::<unic_langid::LanguageIdentifier>().is_ok()
}

/// The languages of an `Accept-Language` header, in the order written (tags that do not parse
/// are dropped), at most [`ACCEPTED_LANGUAGES_MAX`].
pub fn accepted_languages(header: &str) -> Vec<String> {
    fluent_langneg::accepted_languages::parse(header)
        .into_iter()
        .take(ACCEPTED_LANGUAGES_MAX)
        .map(|l| l.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accept_language_header_of_many_languages_is_weighed_only_for_its_first_sixteen() {
        let many: Vec<String> = (b'a'..=b'z')
            .flat_map(|a| [format!("{}a", a as char), format!("{}b", a as char)])
            .take(40)
            .collect();
        let header = format!("{}, zh-CN;q=0.1", many.join(", "));
        let accepted = accepted_languages(&header);
        assert_eq!(accepted.len(), ACCEPTED_LANGUAGES_MAX);
        // Chinese, 41st, is passed over rather than read at the end of a header of any length.
        assert!(!accepted.iter().any(|l| l == "zh-CN"), "{accepted:?}");
        assert_eq!(accepted_languages("zh-CN, en;q=0.5"), ["zh-CN", "en"]);
    }
}
