//! Path globs for sensitive-path matching: `**`, `*`, `?` and `{a,b}`.
//!
//! Hand-written rather than a dependency because the needed dialect is small and must be
//! total (no panics, bounded work) on operator-supplied patterns and attacker-supplied
//! paths. Semantics, gitignore-like:
//! * `**` as a whole segment matches zero or more segments; `*` matches within one
//!   segment; `?` matches one character other than `/`; `{a,b}` expands to alternatives.
//! * A pattern without `/` matches the file name at any depth (`*.tf` = `**/*.tf`).
//! * Matching is ASCII case-insensitive (`src/Auth/` is as sensitive as `src/auth/`).
//! * Paths are normalised: `\` → `/`, leading `./` and `/` dropped, empty segments ignored.

use std::fmt;

/// Longest pattern accepted, in bytes.
const MAX_PATTERN_LEN: usize = 1_024;
/// Most alternatives one pattern may expand to through braces.
const MAX_ALTERNATIVES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("empty glob pattern")]
    Empty,
    #[error("glob pattern {0:?} is longer than 1024 bytes")]
    TooLong(String),
    #[error("glob pattern {0:?} has unbalanced braces")]
    UnbalancedBraces(String),
    #[error("glob pattern {0:?} expands to more than 64 alternatives")]
    TooManyAlternatives(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Star,
    AnyChar,
    Literal(char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    AnyDepth,
    /// A trailing `**`: everything *inside* a directory, not the directory itself, so
    /// `**/*auth*/**` matches `src/auth/x.rs` but not a file named `auth.rs`.
    AnyDepthNonEmpty,
    Pattern(Vec<Token>),
}

/// One compiled glob.
#[derive(Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    alternatives: Vec<Vec<Segment>>,
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.source)
    }
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let trimmed = pattern.trim();
        if trimmed.is_empty() {
            return Err(GlobError::Empty);
        }
        if trimmed.len() > MAX_PATTERN_LEN {
            return Err(GlobError::TooLong(trimmed.chars().take(64).collect()));
        }
        let expanded = expand_braces(trimmed)?;
        let alternatives = expanded.iter().map(|alt| compile(alt)).collect::<Vec<_>>();
        Ok(Glob {
            source: trimmed.to_owned(),
            alternatives,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn is_match(&self, path: &str) -> bool {
        let lowered = path.to_ascii_lowercase().replace('\\', "/");
        let segments: Vec<&str> = lowered
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        self.alternatives
            .iter()
            .any(|alt| match_segments(alt, &segments))
    }
}

/// Expands `{a,b}` groups (nesting allowed), refusing runaway expansions.
fn expand_braces(pattern: &str) -> Result<Vec<String>, GlobError> {
    let chars: Vec<char> = pattern.chars().collect();
    // Find the first top-level `{` and its matching `}`.
    let mut open = None;
    let mut depth = 0usize;
    for (i, c) in chars.iter().enumerate() {
        match c {
            '{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            '}' => {
                if depth == 0 {
                    return Err(GlobError::UnbalancedBraces(pattern.to_owned()));
                }
                depth -= 1;
                if depth == 0
                    && let Some(start) = open
                {
                    let prefix: String = chars.iter().take(start).collect();
                    let suffix: String = chars.iter().skip(i + 1).collect();
                    let inner: Vec<char> = chars
                        .iter()
                        .skip(start + 1)
                        .take(i - start - 1)
                        .copied()
                        .collect();
                    let mut out = Vec::new();
                    for option in split_top_level_commas(&inner) {
                        let candidate = format!("{prefix}{option}{suffix}");
                        for expanded in expand_braces(&candidate)? {
                            out.push(expanded);
                            if out.len() > MAX_ALTERNATIVES {
                                return Err(GlobError::TooManyAlternatives(pattern.to_owned()));
                            }
                        }
                    }
                    return Ok(out);
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(GlobError::UnbalancedBraces(pattern.to_owned()));
    }
    Ok(vec![pattern.to_owned()])
}

fn split_top_level_commas(inner: &[char]) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for &c in inner {
        match c {
            '{' => {
                depth += 1;
                current.push(c);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

fn compile(pattern: &str) -> Vec<Segment> {
    let lowered = pattern.to_ascii_lowercase().replace('\\', "/");
    let anchored = lowered.contains('/');
    let mut segments: Vec<Segment> = Vec::new();
    if !anchored {
        segments.push(Segment::AnyDepth);
    }
    for part in lowered.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if part == "**" {
            // `a/**/**/b` is the same as `a/**/b`; collapsing keeps matching linear.
            if segments.last() != Some(&Segment::AnyDepth) {
                segments.push(Segment::AnyDepth);
            }
        } else {
            let tokens = part
                .chars()
                .map(|c| match c {
                    '*' => Token::Star,
                    '?' => Token::AnyChar,
                    other => Token::Literal(other),
                })
                .collect();
            segments.push(Segment::Pattern(tokens));
        }
    }
    if segments.len() > 1 && segments.last() == Some(&Segment::AnyDepth) {
        segments.pop();
        segments.push(Segment::AnyDepthNonEmpty);
    }
    segments
}

/// Dynamic programming over path positions: `reach[j]` says the pattern so far can
/// consume exactly the first `j` path segments. Work is O(pattern × path).
fn match_segments(pattern: &[Segment], path: &[&str]) -> bool {
    let mut reach = vec![false; path.len() + 1];
    if let Some(first) = reach.first_mut() {
        *first = true;
    }
    for segment in pattern {
        reach = match segment {
            Segment::AnyDepth => {
                let mut seen = false;
                reach
                    .iter()
                    .map(|&r| {
                        seen |= r;
                        seen
                    })
                    .collect()
            }
            Segment::AnyDepthNonEmpty => {
                let mut seen = false;
                let mut next = vec![false];
                next.extend(reach.iter().take(path.len()).map(|&r| {
                    seen |= r;
                    seen
                }));
                next
            }
            Segment::Pattern(tokens) => {
                let mut next = vec![false];
                next.extend(
                    reach
                        .iter()
                        .zip(path.iter())
                        .map(|(&r, name)| r && match_segment(tokens, name)),
                );
                next
            }
        };
        if !reach.contains(&true) {
            return false;
        }
    }
    reach.last().copied().unwrap_or(false)
}

/// Wildcard match within one segment, with single-star backtracking (linear-ish, never
/// exponential).
fn match_segment(tokens: &[Token], name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    let (mut t, mut c) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while c < chars.len() {
        match (tokens.get(t), chars.get(c)) {
            (Some(Token::AnyChar), Some(_)) => {
                t += 1;
                c += 1;
            }
            (Some(Token::Literal(l)), Some(ch)) if l == ch => {
                t += 1;
                c += 1;
            }
            (Some(Token::Star), _) => {
                star = Some((t, c));
                t += 1;
            }
            _ => match star {
                Some((st, sc)) => {
                    t = st + 1;
                    c = sc + 1;
                    star = Some((st, sc + 1));
                }
                None => return false,
            },
        }
    }
    tokens.iter().skip(t).all(|tok| *tok == Token::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, path: &str) -> bool {
        Glob::new(p).unwrap().is_match(path)
    }

    #[test]
    fn table() {
        let cases = [
            ("**/*auth*/**", "src/auth/session.rs", true),
            ("**/*auth*/**", "src/oauth2/x.rs", true),
            ("**/*auth*/**", "auth.rs", false),
            ("**/*auth*", "src/Auth.rs", true),
            ("**/*auth*", "authorize.go", true),
            ("**/migrations/**", "crates/store/migrations/0001.sql", true),
            ("**/migrations/**", "migrations/0001.sql", true),
            ("**/migrations/**", "src/migration.rs", false),
            (".github/workflows/**", ".github/workflows/ci.yml", true),
            (".github/workflows/**", "./.github/workflows/ci.yml", true),
            (".github/workflows/**", "x/.github/workflows/ci.yml", false),
            ("**/Dockerfile", "Dockerfile", true),
            ("**/Dockerfile", "docker/Dockerfile", true),
            ("**/Dockerfile", "docker/Dockerfile.dev", false),
            ("*.tf", "infra/main.tf", true),
            ("*.tf", "main.tfvars", false),
            ("**/*.{yml,yaml}", "deploy/a.yaml", true),
            ("deploy/**/*.{yml,yaml}", "deploy/helm/values.yml", true),
            ("deploy/**/*.{yml,yaml}", "deploy/readme.md", false),
            ("src/?.rs", "src/a.rs", true),
            ("src/?.rs", "src/ab.rs", false),
            ("a/*/c", "a/b/c", true),
            ("a/*/c", "a/b/x/c", false),
            ("a/**/c", "a/c", true),
            ("a/**/c", "a\\b\\x\\c", true),
            ("*", "", false),
            ("**", "anything/at/all", true),
            ("src/**", "src", false),
            ("src/**", "src/a", true),
            ("src/**", "src/a/b/c", true),
            ("**/*auth*/**", "auth", false),
            ("*a*b*c*", "xxaxxbxxcxx", true),
            ("*a*b*c*", "xxaxxcxxbxx", false),
        ];
        for (p, path, want) in cases {
            assert_eq!(m(p, path), want, "{p} vs {path}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(Glob::new("  "), Err(GlobError::Empty));
        assert!(matches!(
            Glob::new("{a,b"),
            Err(GlobError::UnbalancedBraces(_))
        ));
        assert!(matches!(
            Glob::new("a}"),
            Err(GlobError::UnbalancedBraces(_))
        ));
        assert!(matches!(
            Glob::new("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}"),
            Err(GlobError::TooManyAlternatives(_))
        ));
        assert!(matches!(
            Glob::new(&"a".repeat(2000)),
            Err(GlobError::TooLong(_))
        ));
    }

    #[test]
    fn pathological_inputs_are_fast() {
        let g = Glob::new(&format!("{}b", "*a".repeat(100))).unwrap();
        assert!(!g.is_match(&"a".repeat(1000)));
        let g = Glob::new(&"**/a/".repeat(50)).unwrap();
        assert!(!g.is_match(&format!("{}b", "a/".repeat(500))));
        assert!(g.is_match(&"a/".repeat(500)));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(p in "[a-z*?{},/\\\\.]{0,40}", path in "[a-z*?{},/\\\\.]{0,60}") {
            if let Ok(g) = Glob::new(&p) {
                let _ = g.is_match(&path);
            }
        }
    }
}
