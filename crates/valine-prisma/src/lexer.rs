//! Lexer: turns schema text into tokens with byte spans.
//!
//! Newlines are tokens, not whitespace, because Prisma's grammar is line-oriented: a field
//! ends at the end of its line, and a block's `{` must sit on the line that names the block.

use crate::error::SchemaError;

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
pub enum Tok {
    /// Identifier, keyword or number; Prisma identifiers may start with a digit and contain
    /// `-`, so the parser decides which one a word is from context.
    Word(String),
    /// A string literal, already unescaped.
    Str(String),
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
        text: String,
    },
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Tokenizes the whole input. Errors on characters Prisma's grammar has no place for and on
/// unterminated strings.
pub fn lex(src: &str) -> Result<Vec<Token>, SchemaError> {
    let mut out = Vec::with_capacity(src.len() / 4);
    let mut it = src.char_indices().peekable();
    while let Some((start, c)) = it.next() {
        let single = |tok: Tok| Token {
            tok,
            span: Span {
                start,
                end: start + c.len_utf8(),
            },
        };
        match c {
            '\n' => out.push(single(Tok::Newline)),
            '\r' => {
                // CRLF and a lone CR are both one line break, as in Prisma's NEWLINE rule.
                let mut end = start + 1;
                if let Some(&(_, '\n')) = it.peek() {
                    it.next();
                    end += 1;
                }
                out.push(Token {
                    tok: Tok::Newline,
                    span: Span { start, end },
                });
            }
            c if c == '\t' || (c.is_whitespace() && c != '\n' && c != '\r') => {}
            '/' => {
                if !matches!(it.peek(), Some(&(_, '/'))) {
                    return Err(SchemaError::at(src, start, "unexpected character `/`"));
                }
                it.next();
                let doc = matches!(it.peek(), Some(&(_, '/')));
                if doc {
                    it.next();
                }
                let mut end = src.len();
                while let Some(&(i, ch)) = it.peek() {
                    if ch == '\n' || ch == '\r' {
                        end = i;
                        break;
                    }
                    it.next();
                }
                let body_start = start + if doc { 3 } else { 2 };
                let text = src.get(body_start..end).unwrap_or("").to_string();
                out.push(Token {
                    tok: Tok::Comment { doc, text },
                    span: Span { start, end },
                });
            }
            '"' => {
                let mut value = String::new();
                let mut end = None;
                while let Some((i, ch)) = it.next() {
                    match ch {
                        '"' => {
                            end = Some(i + 1);
                            break;
                        }
                        '\\' => match it.next() {
                            Some((_, e)) => push_escape(&mut value, e, &mut it),
                            None => break,
                        },
                        // Prisma's string rule excludes control characters, so a string
                        // cannot run across a line break.
                        ch if ch.is_control() => {
                            return Err(SchemaError::at(
                                src,
                                i,
                                "unterminated string literal (strings cannot span lines)",
                            ));
                        }
                        ch => value.push(ch),
                    }
                }
                let Some(end) = end else {
                    return Err(SchemaError::at(src, start, "unterminated string literal"));
                };
                out.push(Token {
                    tok: Tok::Str(value),
                    span: Span { start, end },
                });
            }
            '@' => {
                if let Some(&(_, '@')) = it.peek() {
                    it.next();
                    out.push(Token {
                        tok: Tok::AtAt,
                        span: Span {
                            start,
                            end: start + 2,
                        },
                    });
                } else {
                    out.push(single(Tok::At));
                }
            }
            '{' => out.push(single(Tok::LBrace)),
            '}' => out.push(single(Tok::RBrace)),
            '(' => out.push(single(Tok::LParen)),
            ')' => out.push(single(Tok::RParen)),
            '[' => out.push(single(Tok::LBracket)),
            ']' => out.push(single(Tok::RBracket)),
            ',' => out.push(single(Tok::Comma)),
            ':' => out.push(single(Tok::Colon)),
            '.' => out.push(single(Tok::Dot)),
            '=' => out.push(single(Tok::Eq)),
            '?' => out.push(single(Tok::Question)),
            c if c.is_ascii_alphanumeric() || c == '-' => {
                let mut end = start + 1;
                while let Some(&(i, ch)) = it.peek() {
                    // A number may carry one decimal point (`1.5`); identifiers never do, and
                    // `db.Text` is a path of two words joined by a Dot token.
                    let decimal = ch == '.'
                        && src
                            .get(start..i)
                            .is_some_and(|w| is_number_prefix(w) && !w.contains('.'))
                        && src
                            .get(i + 1..)
                            .and_then(|r| r.chars().next())
                            .is_some_and(|n| n.is_ascii_digit());
                    if is_word_char(ch) || decimal {
                        it.next();
                        end = i + ch.len_utf8();
                    } else {
                        break;
                    }
                }
                let word = src.get(start..end).unwrap_or("").to_string();
                if word == "-" {
                    return Err(SchemaError::at(src, start, "unexpected character `-`"));
                }
                out.push(Token {
                    tok: Tok::Word(word),
                    span: Span { start, end },
                });
            }
            other => {
                return Err(SchemaError::at(
                    src,
                    start,
                    format!("unexpected character `{}`", other.escape_debug()),
                ));
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span {
            start: src.len(),
            end: src.len(),
        },
    });
    Ok(out)
}

fn is_number_prefix(w: &str) -> bool {
    let digits = w.strip_prefix('-').unwrap_or(w);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// True when a word is a numeric literal (`-?digits(.digits)?`).
pub fn is_number(w: &str) -> bool {
    let body = w.strip_prefix('-').unwrap_or(w);
    let mut parts = body.splitn(2, '.');
    let int_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let frac_ok = parts
        .next()
        .is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    int_ok && frac_ok
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

    fn kinds(src: &str) -> Vec<Tok> {
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
                Tok::Word("db".into()),
                Tok::Dot,
                Tok::Word("VarChar".into()),
                Tok::LParen,
                Tok::Word("50".into()),
                Tok::RParen,
                Tok::Word("-1.5".into()),
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
                Tok::Word("a".into()),
                Tok::Comment {
                    doc: true,
                    text: " doc".into()
                },
                Tok::Newline,
                Tok::Comment {
                    doc: false,
                    text: " c".into()
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
