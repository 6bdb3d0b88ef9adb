//! Member identifiers as the insurer's platform sends them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest member identifier accepted, in bytes of UTF-8.
pub const MEMBER_ID_BYTES_MAX: usize = 128;

/// Why a member identifier was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MemberIdError {
    #[error("member id is empty")]
    Empty,
    #[error("member id is {bytes} bytes long; the limit is {MEMBER_ID_BYTES_MAX} bytes")]
    TooLong { bytes: usize },
    #[error("member id `{id}` contains {character}, a character a reader cannot see")]
    HiddenCharacter { id: String, character: String },
    #[error("member id `{0}` starts or ends with white space")]
    Padded(String),
}

/// A member's identifier: non-empty, at most [`MEMBER_ID_BYTES_MAX`] bytes, no character a
/// reader cannot see (controls, bidirectional overrides: [`crate::text::hidden_character`]),
/// no surrounding white space. Ordered bytewise so outputs sort the same everywhere.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemberId(String);

impl MemberId {
    pub fn parse(text: &str) -> Result<Self, MemberIdError> {
        if text.is_empty() {
            return Err(MemberIdError::Empty);
        }
        if text.len() > MEMBER_ID_BYTES_MAX {
            return Err(MemberIdError::TooLong { bytes: text.len() });
        }
        if let Some(c) = crate::text::hidden_character(text) {
            return Err(MemberIdError::HiddenCharacter {
                id: text.escape_default().to_string(),
                character: crate::text::describe_character(c),
            });
        }
        if text.trim() != text {
            return Err(MemberIdError::Padded(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MemberId {
    type Error = MemberIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MemberId> for String {
    fn from(value: MemberId) -> Self {
        value.0
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_ids_are_refused_for_each_reason() {
        assert_eq!(MemberId::parse(""), Err(MemberIdError::Empty));
        assert!(matches!(
            MemberId::parse(&"x".repeat(MEMBER_ID_BYTES_MAX + 1)),
            Err(MemberIdError::TooLong { bytes: 129 })
        ));
        assert!(matches!(
            MemberId::parse("a\tb"),
            Err(MemberIdError::HiddenCharacter { .. })
        ));
        assert_eq!(
            MemberId::parse("M1\u{202E}01").map_err(|e| e.to_string()),
            Err(
                "member id `M1\\u{202e}01` contains U+202E, a character a reader cannot see".into()
            )
        );
        assert!(matches!(
            MemberId::parse(" M1"),
            Err(MemberIdError::Padded(_))
        ));
        assert_eq!(
            MemberId::parse("患者-001").map(|m| m.to_string()),
            Ok("患者-001".into())
        );
    }
}
