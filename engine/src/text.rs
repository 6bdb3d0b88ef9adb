//! Text that names things — ids, keys, versions, attribute values — checked for characters
//! a person cannot see. A control character or a bidirectional override in an id makes two
//! ids that look the same on screen different in the database (U+202E between `M1` and `01`
//! makes it read as `M110`), and an auditor reading an export is shown something other than
//! what was stored. Unicode's own categories say which characters these are (unicode-properties, the
//! tables sqlx already builds on), rather than a list of ranges of our own.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// The first character of `text` that a reader cannot see or that changes how the text
/// around it is shown: controls (Cc), format characters (Cf: bidirectional overrides and
/// isolates, zero-width spaces and joiners, the byte-order mark), line and paragraph
/// separators, private-use and unassigned code points.
pub fn hidden_character(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        matches!(
            c.general_category(),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
                | GeneralCategory::PrivateUse
                | GeneralCategory::Surrogate
                | GeneralCategory::Unassigned
        )
    })
}

/// How a hidden character is named in an error: its code point, since printing it would
/// hide it again (or turn the message around).
pub fn describe_character(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// `text` unless it holds a character a reader cannot see; the refusal names it by code point:
/// "contains U+202E, a character a reader cannot see".
pub fn visible(text: &str) -> Result<&str, String> {
    match hidden_character(text) {
        Some(c) => Err(format!(
            "contains {}, a character a reader cannot see",
            describe_character(c)
        )),
        None => Ok(text),
    }
}

/// Characters of a client's value an error message repeats at most.
pub const EXCERPT_CHARS_MAX: usize = 100;

/// A value as an error message repeats it: the first [`EXCERPT_CHARS_MAX`] characters and how
/// long the whole was. A message that echoed an 8 MB value whole would cost the server the
/// copy and send the client its own megabytes back.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS_MAX) {
        None => text.to_owned(),
        Some((cut, _)) => format!(
            "{}… ({} bytes in all)",
            text.get(..cut).unwrap_or_default(),
            text.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidirectional_overrides_and_zero_width_characters_are_hidden() {
        for (text, hidden) in [
            ("a\tb", '\t'),
            ("M1\u{202E}01", '\u{202E}'),
            ("M\u{2066}1", '\u{2066}'),
            ("M\u{200B}1", '\u{200B}'),
            ("\u{FEFF}M1", '\u{FEFF}'),
            ("M\u{2028}1", '\u{2028}'),
            ("M\u{E000}1", '\u{E000}'),
        ] {
            assert_eq!(
                hidden_character(text),
                Some(hidden),
                "{}",
                text.escape_default()
            );
        }
    }

    #[test]
    fn letters_of_any_script_digits_and_punctuation_are_not_hidden() {
        for text in ["患者-001", "M102", "Ölçüm_3.1", "член #7", "a b"] {
            assert_eq!(hidden_character(text), None, "{text}");
        }
    }

    #[test]
    fn an_excerpt_keeps_a_short_value_whole_and_cuts_a_long_one_at_a_character() {
        assert_eq!(excerpt("2026-13"), "2026-13");
        let long = "糖".repeat(5_000);
        let cut = excerpt(&long);
        assert!(cut.starts_with(&"糖".repeat(EXCERPT_CHARS_MAX)));
        assert!(cut.ends_with("… (15000 bytes in all)"), "{cut}");
        assert_eq!(
            cut.chars().count(),
            EXCERPT_CHARS_MAX + "… (15000 bytes in all)".chars().count()
        );
    }

    #[test]
    fn visible_text_passes_and_hidden_text_is_refused_naming_the_character() {
        assert_eq!(visible("M102"), Ok("M102"));
        assert_eq!(
            visible("M1\u{202E}"),
            Err("contains U+202E, a character a reader cannot see".to_owned())
        );
    }

    #[test]
    fn a_hidden_character_is_named_by_its_code_point() {
        assert_eq!(describe_character('\u{202E}'), "U+202E");
        assert_eq!(describe_character('\0'), "U+0000");
    }
}
