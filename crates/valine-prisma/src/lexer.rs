//! Lexer: turns schema text into tokens with byte spans.
//!
//! Newlines are tokens, not whitespace, because Prisma's grammar is line-oriented: a field
//! ends at the end of its line, and a block's `{` must sit on the line that names the block.

use crate::error::SchemaError;
use std::borrow::Cow;

/// Byte range `start..end` into the source text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// Spans are positional metadata: two ASTs that say the same thing are equal wherever their
/// text sat, which is what makes `parse(print(ast)) == ast` a meaningful property.
impl PartialEq for Span {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}
impl Eq for Span {}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok<'a> {
    /// Identifier, keyword or number; Prisma identifiers may start with a digit and contain
    /// `-`, so the parser decides which one a word is from context.
    Word(&'a str),
    /// A string literal, already unescaped (borrowed when it has no escapes).
    Str(Cow<'a, str>),
    At,
    AtAt,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Dot,
    Eq,
    Question,
    Newline,
    /// `//` or `///` comment up to (not including) the end of the line.
    Comment {
        doc: bool,
        text: &'a str,
    },
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token<'a> {
    pub tok: Tok<'a>,
    pub span: Span,
}

/// A token as the parser sees it: `Copy`, with string literals left as their source span
/// (the parser unescapes the few it keeps, with [`string_value`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Raw<'a> {
    Word(&'a str),
    Str,
    At,
    AtAt,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Dot,
    Eq,
    Question,
    Newline,
    Comment { doc: bool, text: &'a str },
    Eof,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct RawToken<'a> {
    pub tok: Raw<'a>,
    pub span: Span,
}

/// Bytes that continue a word: ASCII letters, digits, `_` and `-`.
const WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        b += 1;
    }
    t
};

fn is_word_byte(b: u8) -> bool {
    WORD[usize::from(b)]
}

/// How many bytes from `from` on satisfy `pred`.
#[inline]
fn count_while(bytes: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .map_or(0, |r| r.iter().take_while(|&&c| pred(c)).count())
}

/// A streaming tokenizer: [`Lexer::next_token`] yields one token at a time, so no token
/// vector is ever built (for a large schema that vector was megabytes of fresh memory).
/// Cloning it is cheap, which is how the parser looks ahead in error paths.
#[derive(Clone)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    /// The next token; `Eof` (forever) at the end of the input. Errors on characters
    /// Prisma's grammar has no place for and on unterminated strings. Works on bytes: every
    /// token boundary is an ASCII byte, and non-ASCII text can only appear inside strings
    /// and comments (or as Unicode whitespace).
    pub(crate) fn next_token(&mut self) -> Result<RawToken<'a>, SchemaError> {
        let src = self.src;
        let bytes = src.as_bytes();
        let slice = |a: usize, b: usize| src.get(a..b).unwrap_or("");
        let mut i = self.pos;
        loop {
            let Some(&b) = bytes.get(i) else {
                self.pos = i;
                return Ok(RawToken {
                    tok: Raw::Eof,
                    span: Span {
                        start: src.len(),
                        end: src.len(),
                    },
                });
            };
            let start = i;
            let (tok, end) = match b {
                b' ' | b'\t' => {
                    i += 1 + count_while(bytes, i + 1, |c| c == b' ' || c == b'\t');
                    continue;
                }
                b'\n' => (Raw::Newline, i + 1),
                b'\r' => {
                    // CRLF and a lone CR are both one line break, as in Prisma's NEWLINE rule.
                    let end = if bytes.get(i + 1) == Some(&b'\n') {
                        i + 2
                    } else {
                        i + 1
                    };
                    (Raw::Newline, end)
                }
                b'/' => {
                    if bytes.get(i + 1) != Some(&b'/') {
                        return Err(SchemaError::at(src, start, "unexpected character `/`"));
                    }
                    let doc = bytes.get(i + 2) == Some(&b'/');
                    let body = start + if doc { 3 } else { 2 };
                    let end = bytes
                        .get(body..)
                        .and_then(|r| r.iter().position(|&c| c == b'\n' || c == b'\r'))
                        .map_or(src.len(), |p| body + p);
                    (
                        Raw::Comment {
                            doc,
                            text: slice(body, end),
                        },
                        end,
                    )
                }
                b'"' => (Raw::Str, string_end(src, start)?),
                b'@' => {
                    if bytes.get(i + 1) == Some(&b'@') {
                        (Raw::AtAt, i + 2)
                    } else {
                        (Raw::At, i + 1)
                    }
                }
                b'{' => (Raw::LBrace, i + 1),
                b'}' => (Raw::RBrace, i + 1),
                b'(' => (Raw::LParen, i + 1),
                b')' => (Raw::RParen, i + 1),
                b'[' => (Raw::LBracket, i + 1),
                b']' => (Raw::RBracket, i + 1),
                b',' => (Raw::Comma, i + 1),
                b':' => (Raw::Colon, i + 1),
                b'.' => (Raw::Dot, i + 1),
                b'=' => (Raw::Eq, i + 1),
                b'?' => (Raw::Question, i + 1),
                b if b.is_ascii_alphanumeric() || b == b'-' => {
                    i += 1;
                    loop {
                        i += count_while(bytes, i, is_word_byte);
                        // A number may carry one decimal point (`1.5`); identifiers never
                        // do, and `db.Text` is a path of two words joined by a Dot token.
                        let decimal = bytes.get(i) == Some(&b'.')
                            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                            && is_number_prefix(slice(start, i));
                        if !decimal {
                            break;
                        }
                        i += 1;
                    }
                    let word = slice(start, i);
                    if word == "-" {
                        return Err(SchemaError::at(src, start, "unexpected character `-`"));
                    }
                    (Raw::Word(word), i)
                }
                _ => {
                    let ch = src
                        .get(i..)
                        .and_then(|r| r.chars().next())
                        .unwrap_or('\u{fffd}');
                    if ch.is_whitespace() && ch != '\u{85}' {
                        // Unicode space separators count as whitespace, like Prisma's rule.
                        i += ch.len_utf8();
                        continue;
                    }
                    return Err(SchemaError::at(
                        src,
                        start,
                        format!("unexpected character `{}`", ch.escape_debug()),
                    ));
                }
            };
            self.pos = end;
            return Ok(RawToken {
                tok,
                span: Span { start, end },
            });
        }
    }
}

/// Tokenizes the whole input (the parser streams instead; this is for tests and tools).
pub fn lex(src: &str) -> Result<Vec<Token<'_>>, SchemaError> {
    let mut lexer = Lexer::new(src);
    // Schemas run at about one token per four bytes; sizing for that avoids regrowing (and
    // copying) a multi-megabyte vector on large inputs.
    let mut out = Vec::with_capacity(src.len() / 3 + 16);
    loop {
        let t = lexer.next_token()?;
        let tok = match t.tok {
            Raw::Word(w) => Tok::Word(w),
            Raw::Str => Tok::Str(string_value(src, t.span.start)?.0),
            Raw::At => Tok::At,
            Raw::AtAt => Tok::AtAt,
            Raw::LBrace => Tok::LBrace,
            Raw::RBrace => Tok::RBrace,
            Raw::LParen => Tok::LParen,
            Raw::RParen => Tok::RParen,
            Raw::LBracket => Tok::LBracket,
            Raw::RBracket => Tok::RBracket,
            Raw::Comma => Tok::Comma,
            Raw::Colon => Tok::Colon,
            Raw::Dot => Tok::Dot,
            Raw::Eq => Tok::Eq,
            Raw::Question => Tok::Question,
            Raw::Newline => Tok::Newline,
            Raw::Comment { doc, text } => Tok::Comment { doc, text },
            Raw::Eof => Tok::Eof,
        };
        let eof = tok == Tok::Eof;
        out.push(Token { tok, span: t.span });
        if eof {
            return Ok(out);
        }
    }
}

/// The end offset of the string literal starting at the `"` at `start`, checked the way
/// [`string_value`] reads it.
fn string_end(src: &str, start: usize) -> Result<usize, SchemaError> {
    let body = start + 1;
    match src.as_bytes().get(body..).and_then(ascii_plain_len) {
        Some(p) => Ok(body + p + 1),
        None => string_value(src, start).map(|(_, end)| end),
    }
}

/// The length of a string literal's body up to its closing `"` when everything before it is
/// printable ASCII without escapes (most strings); `None` sends the caller the full way.
fn ascii_plain_len(rest: &[u8]) -> Option<usize> {
    for (p, &b) in rest.iter().enumerate() {
        match b {
            b'"' => return Some(p),
            b'\\' | 0..=0x1f | 0x7f.. => return None,
            _ => {}
        }
    }
    None
}

/// A string literal starting at the `"` at `start`; returns its value and end offset.
pub(crate) fn string_value(src: &str, start: usize) -> Result<(Cow<'_, str>, usize), SchemaError> {
    let body = start + 1;
    let rest = src.get(body..).unwrap_or("");
    // Fast paths: no escapes, so the value is a slice of the source.
    if let Some(p) = ascii_plain_len(rest.as_bytes()) {
        return Ok((Cow::Borrowed(rest.get(..p).unwrap_or("")), body + p + 1));
    }
    if let Some(p) = rest.find(|c: char| c == '"' || c == '\\' || c.is_control())
        && rest.get(p..).is_some_and(|r| r.starts_with('"'))
    {
        return Ok((Cow::Borrowed(rest.get(..p).unwrap_or("")), body + p + 1));
    }
    let mut value = String::new();
    let mut it = rest.char_indices().peekable();
    while let Some((i, ch)) = it.next() {
        match ch {
            '"' => return Ok((Cow::Owned(value), body + i + 1)),
            '\\' => match it.next() {
                Some((_, e)) => push_escape(&mut value, e, &mut it),
                None => break,
            },
            // Prisma's string rule excludes control characters, so a string cannot run
            // across a line break.
            '\n' | '\r' => {
                return Err(SchemaError::at(
                    src,
                    start,
                    "unterminated string literal (strings cannot span lines)",
                ));
            }
            // JSON's rule, as in Prisma: only U+0000–U+001F must be escaped.
            ch if ch < '\u{20}' => {
                return Err(SchemaError::at(
                    src,
                    body + i,
                    "control characters are not allowed in strings; escape them (e.g. `\\t`)",
                ));
            }
            ch => value.push(ch),
        }
    }
    Err(SchemaError::at(src, start, "unterminated string literal"))
}

fn is_number_prefix(w: &str) -> bool {
    let digits = w.strip_prefix('-').unwrap_or(w);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// True when a word is a numeric literal (`-?digits(.digits)?`).
pub fn is_number(w: &str) -> bool {
    let body = w.as_bytes();
    let body = body.strip_prefix(b"-").unwrap_or(body);
    let int_len = body.iter().take_while(|b| b.is_ascii_digit()).count();
    match body.get(int_len..) {
        _ if int_len == 0 => false,
        Some([]) => true,
        Some([b'.', frac @ ..]) => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

fn push_escape(
    value: &mut String,
    e: char,
    it: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) {
    match e {
        'n' => value.push('\n'),
        't' => value.push('\t'),
        'r' => value.push('\r'),
        '0' => value.push('\0'),
        'u' => {
            // `\uXXXX`; anything else after `\u` is kept literally rather than rejected,
            // since Prisma's grammar accepts `\` followed by any character.
            let mut hex = String::new();
            while hex.len() < 4 {
                match it.peek() {
                    Some(&(_, h)) if h.is_ascii_hexdigit() => {
                        hex.push(h);
                        it.next();
                    }
                    _ => break,
                }
            }
            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                Some(ch) if hex.len() == 4 => value.push(ch),
                _ => {
                    value.push('u');
                    value.push_str(&hex);
                }
            }
        }
        other => value.push(other),
    }
}

/// Escapes a string so that [`lex`] reads it back as the same value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok<'_>> {
        lex(src)
            .map(|t| t.into_iter().map(|t| t.tok).collect())
            .unwrap_or_default()
    }

    #[test]
    fn words_numbers_paths() {
        assert_eq!(
            kinds("@db.VarChar(50) -1.5"),
            vec![
                Tok::At,
                Tok::Word("db"),
                Tok::Dot,
                Tok::Word("VarChar"),
                Tok::LParen,
                Tok::Word("50"),
                Tok::RParen,
                Tok::Word("-1.5"),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings_unescape_and_roundtrip() {
        let toks = kinds(r#""a\"b\\c\nd\u0041""#);
        assert_eq!(toks[0], Tok::Str("a\"b\\c\ndA".into()));
        let s = "q\"\\\n\t\u{1}é";
        assert_eq!(kinds(&escape(s))[0], Tok::Str(s.into()));
    }

    #[test]
    fn crlf_is_one_newline_and_comments_split() {
        assert_eq!(
            kinds("a /// doc\r\n// c"),
            vec![
                Tok::Word("a"),
                Tok::Comment {
                    doc: true,
                    text: " doc"
                },
                Tok::Newline,
                Tok::Comment {
                    doc: false,
                    text: " c"
                },
                Tok::Eof
            ]
        );
    }

    #[test]
    fn rejects_unterminated_and_unknown() {
        assert!(lex("\"abc").is_err());
        assert!(lex("\"ab\nc\"").is_err());
        assert!(lex("a $ b").is_err());
        assert!(lex("a / b").is_err());
    }

    #[test]
    fn number_shape() {
        assert!(is_number("12"));
        assert!(is_number("-1.25"));
        assert!(!is_number("1."));
        assert!(!is_number("1a"));
        assert!(!is_number("-"));
    }
}
