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

/// What a token is, as the parser sees it. The text of a word, comment or string is the
/// token's span of the source, so a token is three machine words and `Copy`: the parser
/// moves one per token, and a payload-carrying enum made that the lexer's main cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Word,
    /// A string literal without escapes: its value is the text between the quotes.
    Str,
    /// A string literal with escapes (or non-ASCII text): [`string_value`] reads it.
    StrEscaped,
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
    /// `//` comment; the text starts two bytes into the span.
    Comment,
    /// `///` comment; the text starts three bytes into the span.
    DocComment,
    Eof,
    /// A lexical error; [`Lexer::take_error`] has it.
    Error,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct RawToken {
    pub kind: Kind,
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

/// The end of the run of word bytes starting at `i`.
#[inline]
fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&c) = bytes.get(i) {
        if !WORD[usize::from(c)] {
            break;
        }
        i += 1;
    }
    i
}

/// A streaming tokenizer: [`Lexer::next_token`] yields one token at a time, so no token
/// vector is ever built (for a large schema that vector was megabytes of fresh memory).
/// Cloning it is cheap, which is how the parser looks ahead in error paths.
#[derive(Clone)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// Set with the [`Kind::Error`] token; kept out of the token so the hot path returns
    /// three words instead of a `Result` the size of an error.
    error: Option<SchemaError>,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            error: None,
        }
    }

    /// The error behind the last [`Kind::Error`] token.
    pub(crate) fn take_error(&mut self) -> Option<SchemaError> {
        self.error.take()
    }

    #[cold]
    fn fail(&mut self, at: usize, message: String) -> RawToken {
        let error = SchemaError::at(self.src, at, message);
        self.fail_with(at, error)
    }

    /// Ends the token stream with `error`, found at offset `at`.
    #[cold]
    fn fail_with(&mut self, at: usize, error: SchemaError) -> RawToken {
        self.error = Some(error);
        self.pos = self.src.len();
        RawToken {
            kind: Kind::Error,
            span: Span { start: at, end: at },
        }
    }

    /// The next token; `Eof` (forever) at the end of the input. Characters Prisma's grammar
    /// has no place for, and unterminated strings, give an `Error` token. Works on bytes:
    /// every token boundary is an ASCII byte, and non-ASCII text can only appear inside
    /// strings and comments (or as Unicode whitespace).
    #[inline]
    pub(crate) fn next_token(&mut self) -> RawToken {
        let src = self.src;
        let bytes = src.as_bytes();
        let mut i = self.pos;
        loop {
            let Some(&b) = bytes.get(i) else {
                self.pos = bytes.len();
                return RawToken {
                    kind: Kind::Eof,
                    span: Span {
                        start: bytes.len(),
                        end: bytes.len(),
                    },
                };
            };
            let start = i;
            let (kind, end) = match b {
                b' ' | b'\t' => {
                    i += 1;
                    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
                        i += 1;
                    }
                    continue;
                }
                b'\n' => (Kind::Newline, i + 1),
                b'\r' => {
                    // CRLF and a lone CR are both one line break, as in Prisma's NEWLINE rule.
                    let end = if bytes.get(i + 1) == Some(&b'\n') {
                        i + 2
                    } else {
                        i + 1
                    };
                    (Kind::Newline, end)
                }
                b'/' => {
                    if bytes.get(i + 1) != Some(&b'/') {
                        return self.fail(start, "unexpected character `/`".into());
                    }
                    let doc = bytes.get(i + 2) == Some(&b'/');
                    let body = start + if doc { 3 } else { 2 };
                    let end = bytes
                        .get(body..)
                        .and_then(|r| r.iter().position(|&c| c == b'\n' || c == b'\r'))
                        .map_or(src.len(), |p| body + p);
                    self.pos = end;
                    let kind = if doc { Kind::DocComment } else { Kind::Comment };
                    return RawToken {
                        kind,
                        span: Span { start, end },
                    };
                }
                b'"' => match bytes.get(i + 1..).and_then(ascii_plain_len) {
                    Some(p) => (Kind::Str, i + p + 2),
                    None => match string_value(src, start) {
                        Ok((_, end)) => (Kind::StrEscaped, end),
                        Err(e) => return self.fail_with(start, e),
                    },
                },
                b'@' => {
                    if bytes.get(i + 1) == Some(&b'@') {
                        (Kind::AtAt, i + 2)
                    } else {
                        (Kind::At, i + 1)
                    }
                }
                b'{' => (Kind::LBrace, i + 1),
                b'}' => (Kind::RBrace, i + 1),
                b'(' => (Kind::LParen, i + 1),
                b')' => (Kind::RParen, i + 1),
                b'[' => (Kind::LBracket, i + 1),
                b']' => (Kind::RBracket, i + 1),
                b',' => (Kind::Comma, i + 1),
                b':' => (Kind::Colon, i + 1),
                b'.' => (Kind::Dot, i + 1),
                b'=' => (Kind::Eq, i + 1),
                b'?' => (Kind::Question, i + 1),
                b'a'..=b'z' | b'A'..=b'Z' => (Kind::Word, word_end(bytes, i + 1)),
                b'0'..=b'9' | b'-' => {
                    i = word_end(bytes, i + 1);
                    // A number may carry one decimal point (`1.5`); identifiers never do,
                    // and `db.Text` is a path of two words joined by a Dot token.
                    if bytes.get(i) == Some(&b'.')
                        && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                        && is_number_prefix(bytes.get(start..i).unwrap_or(b""))
                    {
                        i = word_end(bytes, i + 1);
                    }
                    if i == start + 1 && b == b'-' {
                        return self.fail(start, "unexpected character `-`".into());
                    }
                    (Kind::Word, i)
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
                    return self.fail(
                        start,
                        format!("unexpected character `{}`", ch.escape_debug()),
                    );
                }
            };
            self.pos = end;
            return RawToken {
                kind,
                span: Span { start, end },
            };
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
        let t = lexer.next_token();
        let text = src.get(t.span.start..t.span.end).unwrap_or("");
        let comment = |skip: usize| src.get(t.span.start + skip..t.span.end).unwrap_or("");
        let tok = match t.kind {
            Kind::Word => Tok::Word(text),
            Kind::Str | Kind::StrEscaped => Tok::Str(string_value(src, t.span.start)?.0),
            Kind::At => Tok::At,
            Kind::AtAt => Tok::AtAt,
            Kind::LBrace => Tok::LBrace,
            Kind::RBrace => Tok::RBrace,
            Kind::LParen => Tok::LParen,
            Kind::RParen => Tok::RParen,
            Kind::LBracket => Tok::LBracket,
            Kind::RBracket => Tok::RBracket,
            Kind::Comma => Tok::Comma,
            Kind::Colon => Tok::Colon,
            Kind::Dot => Tok::Dot,
            Kind::Eq => Tok::Eq,
            Kind::Question => Tok::Question,
            Kind::Newline => Tok::Newline,
            Kind::Comment => Tok::Comment {
                doc: false,
                text: comment(2),
            },
            Kind::DocComment => Tok::Comment {
                doc: true,
                text: comment(3),
            },
            Kind::Eof => Tok::Eof,
            Kind::Error => {
                return Err(lexer
                    .take_error()
                    .unwrap_or_else(|| SchemaError::at(src, t.span.start, "invalid input")));
            }
        };
        let eof = tok == Tok::Eof;
        out.push(Token { tok, span: t.span });
        if eof {
            return Ok(out);
        }
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

fn is_number_prefix(w: &[u8]) -> bool {
    let digits = w.strip_prefix(b"-").unwrap_or(w);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
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
