//! Problems found in a policy package, each pointing at a file, a line and a column.
//!
//! Loading a package never stops at the first problem: every check runs and every finding is
//! returned, so an author fixes them in one pass (the way cedar's validator reports). The
//! engine only produces these values; the CLI renders them with the source line for people
//! and as JSON for editors and CI.

use serde::Serialize;
use std::fmt;
use std::ops::Range;

/// How bad a finding is: errors stop a policy from loading, warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, located in one file of the package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable identifier for tools, such as `term-type` or `script-syntax`.
    pub code: &'static str,
    /// The file inside the package, such as `policy.toml` or `cases/full-rebate.toml`.
    pub file: String,
    /// 1-based line and column (in characters) of the start of the problem.
    pub line: usize,
    pub column: usize,
    /// Byte range in the file, for renderers that underline the source.
    pub span: Range<usize>,
    pub message: String,
    /// What to do about it, when there is something specific to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {level}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

/// A file of a package held in memory: the engine reads nothing from disk itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the package directory, with `/` separators.
    pub name: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and character column of a byte offset (clamped to the text).
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = self.text.get(..offset).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
        (line, column)
    }

    /// Byte offset of a 1-based line and column, for errors that come with positions only.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let line_start = if line <= 1 {
            0
        } else {
            self.text
                .match_indices('\n')
                .nth(line - 2)
                .map_or(self.text.len(), |(i, _)| i + 1)
        };
        let rest = self.text.get(line_start..).unwrap_or_default();
        let within = rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(column.saturating_sub(1))
            .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i);
        line_start + within
    }
}

/// Every finding of one load, in file and position order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem at `span` of `file`.
    pub fn at(
        &mut self,
        severity: Severity,
        code: &'static str,
        file: &SourceFile,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let (line, column) = file.line_column(span.start);
        self.items.push(Diagnostic {
            severity,
            code,
            file: file.name.clone(),
            line,
            column,
            span,
            message: message.into(),
            help: None,
        });
        let last = self.items.len() - 1;
        #[expect(
            clippy::indexing_slicing,
            reason = "the item was pushed on the line above"
        )]
        &mut self.items[last]
    }

    pub fn error(
        &mut self,
        code: &'static str,
        file: &SourceFile,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.at(Severity::Error, code, file, span, message)
    }

    pub fn warning(
        &mut self,
        code: &'static str,
        file: &SourceFile,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.at(Severity::Warning, code, file, span, message)
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.severity == Severity::Error)
    }

    /// Sorts by file, then position, so output is stable whatever order checks ran in.
    pub fn sorted(mut self) -> Self {
        self.items.sort_by(|a, b| {
            (&a.file, a.span.start, a.severity, &a.message).cmp(&(
                &b.file,
                b.span.start,
                b.severity,
                &b.message,
            ))
        });
        self.items.dedup();
        self
    }
}

impl Diagnostic {
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let file = SourceFile::new("policy.toml", "a = 1\nname = \"糖大夫\" x\n");
        let x = file.text.find('x').unwrap();
        assert_eq!(file.line_column(x), (2, 14));
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.offset_of(2, 14), x);
        assert_eq!(file.offset_of(1, 1), 0);
    }
}
