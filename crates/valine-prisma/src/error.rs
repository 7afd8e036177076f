//! `SchemaError`: the one error type of this crate, always positioned (1-based line/column).

use serde::Serialize;
use std::fmt;

/// Which schema of a diff an error belongs to, so a CI log can say "target schema, line 12".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Base,
    Target,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Base => "base",
            Side::Target => "target",
        })
    }
}

/// An invalid schema: syntax Prisma's grammar rejects, or semantics its validator rejects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes) so editors agree with it.
    pub column: usize,
    pub message: String,
    /// Set by [`crate::analyze`]; `None` for a plain [`crate::parse`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
}

impl SchemaError {
    pub(crate) fn at(src: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_col(src, offset);
        SchemaError {
            line,
            column,
            message: message.into(),
            side: None,
        }
    }

    pub(crate) fn with_side(mut self, side: Side) -> Self {
        self.side = Some(side);
        self
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(side) = self.side {
            write!(f, "{side} schema: ")?;
        }
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for SchemaError {}

/// 1-based (line, column) of a byte offset. An offset inside a multi-byte character or past
/// the end is clamped rather than trusted, because errors must never panic.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut off = offset.min(src.len());
    while off > 0 && !src.is_char_boundary(off) {
        off -= 1;
    }
    let before = src.get(..off).unwrap_or("");
    // Line breaks as the lexer sees them: `\n`, `\r\n` and a lone `\r` are one each.
    let all = src.as_bytes();
    let mut line = 1;
    let mut line_start = 0;
    for (i, &b) in before.as_bytes().iter().enumerate() {
        let lone_cr = b == b'\r' && all.get(i + 1) != Some(&b'\n');
        if b == b'\n' || lone_cr {
            line += 1;
            line_start = i + 1;
        }
    }
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_clamps() {
        let src = "ab\néx\r\nz";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 3), (2, 1));
        assert_eq!(line_col(src, 5), (2, 2)); // after the 2-byte 'é'
        assert_eq!(line_col(src, 4), (2, 1)); // inside 'é' → clamped back
        assert_eq!(line_col(src, 999), (3, 2));
        // A lone CR (old Mac line ends) is a line break too.
        assert_eq!(line_col("a\rb", 2), (2, 1));
    }

    #[test]
    fn display_names_the_side() {
        let e = SchemaError::at("x", 0, "boom").with_side(Side::Target);
        assert_eq!(e.to_string(), "target schema: line 1, column 1: boom");
    }
}
