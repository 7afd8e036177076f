//! JUnit XML parsing: one [`TestResult`] per `<testcase>`, whatever tool wrote the report.
//!
//! The parser is a streaming state machine over `quick-xml` events, so memory grows with
//! the number of results kept, not with the size of the document, and every resource that
//! hostile input could inflate is capped by [`Limits`].
//!
//! # What is accepted
//!
//! * Roots `<testsuites>` or `<testsuite>`; suites nest to any depth (PHPUnit, Go, Gradle).
//!   Every `<testcase>` under a root counts once, however deep. Header counts (`tests=`,
//!   `failures=`…) are ignored: some producers leave retried cases out of them.
//! * Status from the case's direct children: `<failure>` → `failed`, else `<error>` →
//!   `error`, else `<skipped>` → `skipped`, else `passed`.
//! * Surefire reruns: `<flakyFailure>`/`<flakyError>` on a passed case mean it passed on a
//!   retry inside the run (a *retry-pass*); `<rerunFailure>`/`<rerunError>` are failed
//!   retries of a failed case. [`TestResult::retries`] counts all four kinds of children.
//! * `suite` is the case's `classname`; when that is missing or blank, the name of the
//!   nearest enclosing `testsuite` (then `testsuites`) that has one; else `"(unknown)"`.
//!   A missing or blank `name` becomes `"(unnamed)"` so the result is still stored.
//! * `time` is seconds, converted to whole milliseconds (rounded). Odd values are not an
//!   error, because one bad timing must not reject a whole CI run: missing, empty,
//!   negative, NaN, infinite or unparsable → 0; `"1,234.5"` (thousands separators, the
//!   comma being followed by exactly three digits) → 1234.5 s; a lone decimal comma
//!   `"0,25"` → 0.25 s; a trailing unit `"1.5s"` → 1.5 s. Huge values saturate.
//! * `file` is the case's `file` (or `filepath`) attribute, else the enclosing suite's.
//! * `message` is the `message` attribute of the status-giving child, else its trimmed text
//!   (CDATA included), capped at [`Limits::max_message_bytes`]; for a retry-pass, the first
//!   flaky child's message.
//! * Attributes in any order and any namespace prefix; CDATA; the five predefined entities
//!   and character references. A UTF-8 BOM is skipped; UTF-16 (with BOM) is transcoded
//!   first, and then error positions refer to the transcoded UTF-8 text.
//! * Documents type definitions are never read and entities they declare are never
//!   expanded (no XXE, no "billion laughs"): an unknown `&name;` stays as literal text.
//!
//! Malformed XML (unclosed or mismatched tags, bad attributes, truncated input) is an
//! [`JunitError::Malformed`] carrying the byte offset and the 1-based line and column.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

/// The outcome of one test case in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
    Error,
}

impl Status {
    /// The wire spelling (`passed|failed|skipped|error`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }

    /// `failed` and `error` both count as a failed run for flakiness purposes.
    pub const fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Error)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status string outside the vocabulary (the server answers 400 with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown test status {0:?}; expected passed, failed, skipped or error")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "passed" => Ok(Status::Passed),
            "failed" => Ok(Status::Failed),
            "skipped" => Ok(Status::Skipped),
            "error" => Ok(Status::Error),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

/// One `<testcase>` of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    pub suite: String,
    pub test_name: String,
    pub status: Status,
    pub duration_ms: u64,
    /// Retries recorded inside the run (Surefire `flaky*`/`rerun*` children).
    pub retries: u32,
    pub file: Option<String>,
    pub message: Option<String>,
}

impl TestResult {
    /// Passed only after failing at least once in the same run.
    pub const fn is_retry_pass(&self) -> bool {
        matches!(self.status, Status::Passed) && self.retries > 0
    }
}

/// Counts over a parsed report (what the server reports back and logs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    /// Passed cases that needed a retry.
    pub retry_passes: usize,
    /// Sum of [`TestResult::retries`].
    pub retries: u64,
}

impl Summary {
    pub fn of(results: &[TestResult]) -> Self {
        let mut s = Summary::default();
        for r in results {
            s.total += 1;
            match r.status {
                Status::Passed => s.passed += 1,
                Status::Failed => s.failed += 1,
                Status::Error => s.errors += 1,
                Status::Skipped => s.skipped += 1,
            }
            if r.is_retry_pass() {
                s.retry_passes += 1;
            }
            s.retries += u64::from(r.retries);
        }
        s
    }
}

/// Caps that keep hostile input from exhausting memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum element nesting depth (real reports stay under 10).
    pub max_depth: usize,
    /// Maximum number of elements of any kind in the document.
    pub max_elements: usize,
    /// Maximum number of `<testcase>` results (the ingestion contract's 50,000).
    pub max_results: usize,
    /// Longest `message` kept per result, in bytes; longer ones are cut at a char boundary.
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_elements: 2_000_000,
            max_results: 50_000,
            max_message_bytes: 4_096,
        }
    }
}

/// Where in the input something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    /// 0-based byte offset into the input.
    pub byte: u64,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in characters.
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {} (byte {})",
            self.line, self.column, self.byte
        )
    }
}

/// Which cap of [`Limits`] was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LimitKind {
    Depth,
    Elements,
    Results,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::Depth => "nesting depth",
            LimitKind::Elements => "element count",
            LimitKind::Results => "test result count",
        })
    }
}

/// Why a report was rejected. Every variant but `Empty` carries a [`Position`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JunitError {
    #[error("malformed XML at {position}: {message}")]
    Malformed { message: String, position: Position },
    #[error("{limit} limit of {max} exceeded at {position}")]
    LimitExceeded {
        limit: LimitKind,
        max: usize,
        position: Position,
    },
    #[error("root element <{root}> at {position} is not <testsuites> or <testsuite>")]
    NotJunit { root: String, position: Position },
    #[error("the document has no root element")]
    Empty,
}

impl JunitError {
    pub const fn position(&self) -> Option<Position> {
        match self {
            JunitError::Malformed { position, .. }
            | JunitError::LimitExceeded { position, .. }
            | JunitError::NotJunit { position, .. } => Some(*position),
            JunitError::Empty => None,
        }
    }
}

/// Parses a report with the default [`Limits`].
pub fn parse(input: &[u8]) -> Result<Vec<TestResult>, JunitError> {
    parse_with_limits(input, &Limits::default())
}

/// Parses a report; see the module docs for the rules.
pub fn parse_with_limits(input: &[u8], limits: &Limits) -> Result<Vec<TestResult>, JunitError> {
    const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
    if let Some(rest) = input.strip_prefix(UTF8_BOM) {
        // Offsets are reported against the caller's bytes, BOM included.
        return Parser::new(rest, input, UTF8_BOM.len() as u64, limits).run();
    }
    if let Some(text) = decode_utf16(input) {
        let bytes = text.as_bytes();
        return Parser::new(bytes, bytes, 0, limits).run();
    }
    Parser::new(input, input, 0, limits).run()
}

/// Transcodes UTF-16 input announced by a BOM; `None` for anything else.
fn decode_utf16(input: &[u8]) -> Option<String> {
    let (big_endian, body) = if let Some(b) = input.strip_prefix(b"\xFE\xFF") {
        (true, b)
    } else if let Some(b) = input.strip_prefix(b"\xFF\xFE") {
        (false, b)
    } else {
        return None;
    };
    let units = body.chunks_exact(2).map(|pair| match pair {
        [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
        [a, b] => u16::from_le_bytes([*a, *b]),
        _ => 0xFFFD,
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    )
}

/// Converts a byte offset into a line/column pair by scanning the input once.
fn position_of(original: &[u8], byte: u64) -> Position {
    let end = usize::try_from(byte)
        .unwrap_or(usize::MAX)
        .min(original.len());
    let prefix = original.get(..end).unwrap_or_default();
    let mut line = 1u64;
    let mut column = 1u64;
    for &b in prefix {
        if b == b'\n' {
            line += 1;
            column = 1;
        } else if b & 0xC0 != 0x80 {
            // Count characters, not bytes: UTF-8 continuation bytes do not start one.
            column += 1;
        }
    }
    Position {
        byte: end as u64,
        line,
        column,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChildKind {
    Failure,
    Error,
    Skipped,
    Flaky,
    Rerun,
}

impl ChildKind {
    fn from_local_name(name: &[u8]) -> Option<Self> {
        match name {
            b"failure" => Some(ChildKind::Failure),
            b"error" => Some(ChildKind::Error),
            b"skipped" => Some(ChildKind::Skipped),
            b"flakyFailure" | b"flakyError" => Some(ChildKind::Flaky),
            b"rerunFailure" | b"rerunError" => Some(ChildKind::Rerun),
            _ => None,
        }
    }
}

struct SuiteFrame {
    depth: usize,
    name: Option<String>,
    file: Option<String>,
}

#[derive(Default)]
struct CaseBuilder {
    depth: usize,
    suite: String,
    name: String,
    duration_ms: u64,
    file: Option<String>,
    failure: Option<String>,
    error: Option<String>,
    skipped: Option<String>,
    flaky: Option<String>,
    has_failure: bool,
    has_error: bool,
    has_skipped: bool,
    retries: u32,
}

impl CaseBuilder {
    fn slot(&mut self, kind: ChildKind) -> Option<&mut Option<String>> {
        match kind {
            ChildKind::Failure => Some(&mut self.failure),
            ChildKind::Error => Some(&mut self.error),
            ChildKind::Skipped => Some(&mut self.skipped),
            ChildKind::Flaky => Some(&mut self.flaky),
            // A rerun's message repeats the failure's; keeping it adds nothing.
            ChildKind::Rerun => None,
        }
    }

    fn finish(self) -> TestResult {
        let (status, message) = if self.has_failure {
            (Status::Failed, self.failure)
        } else if self.has_error {
            (Status::Error, self.error)
        } else if self.has_skipped {
            (Status::Skipped, self.skipped)
        } else {
            (Status::Passed, self.flaky)
        };
        TestResult {
            suite: self.suite,
            test_name: self.name,
            status,
            duration_ms: self.duration_ms,
            retries: self.retries,
            file: self.file,
            message: message.filter(|m| !m.is_empty()),
        }
    }
}

/// Text being collected for a child element that had no `message` attribute.
struct Capture {
    depth: usize,
    kind: ChildKind,
    text: String,
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    original: &'a [u8],
    /// Bytes of `original` before what `reader` sees (a stripped BOM).
    offset: u64,
    limits: &'a Limits,
    depth: usize,
    elements: usize,
    saw_root: bool,
    suites: Vec<SuiteFrame>,
    case: Option<CaseBuilder>,
    capture: Option<Capture>,
    results: Vec<TestResult>,
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8], original: &'a [u8], offset: u64, limits: &'a Limits) -> Self {
        let mut reader = Reader::from_reader(input);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.allow_unmatched_ends = false;
        // Real-world stack traces contain bare `&` (e.g. `&&` in C++/JS); losing a whole
        // report over that would be worse than keeping the ampersand literally.
        config.allow_dangling_amp = true;
        Parser {
            reader,
            original,
            offset,
            limits,
            depth: 0,
            elements: 0,
            saw_root: false,
            suites: Vec::new(),
            case: None,
            capture: None,
            results: Vec::new(),
        }
    }

    fn pos(&self, inner: u64) -> Position {
        position_of(self.original, inner.saturating_add(self.offset))
    }

    fn malformed(&self, message: impl Into<String>, inner: u64) -> JunitError {
        JunitError::Malformed {
            message: message.into(),
            position: self.pos(inner),
        }
    }

    fn run(mut self) -> Result<Vec<TestResult>, JunitError> {
        loop {
            let event_start = self.reader.buffer_position();
            let event = match self.reader.read_event() {
                Ok(ev) => ev,
                Err(err) => {
                    let at = self.reader.error_position();
                    return Err(self.malformed(err.to_string(), at));
                }
            };
            match event {
                Event::Start(e) => {
                    self.open(&e, event_start)?;
                }
                Event::Empty(e) => {
                    self.open(&e, event_start)?;
                    self.close();
                }
                Event::End(_) => self.close(),
                Event::Text(t) => {
                    let raw = String::from_utf8_lossy(&t);
                    let text = quick_xml::escape::unescape(&raw)
                        .map(Cow::into_owned)
                        .unwrap_or_else(|_| raw.into_owned());
                    self.push_text(&text);
                }
                Event::CData(c) => {
                    let text = String::from_utf8_lossy(&c).into_owned();
                    self.push_text(&text);
                }
                Event::GeneralRef(r) => {
                    let text = resolve_reference(&r);
                    self.push_text(&text);
                }
                Event::Eof => break,
                // Declarations, comments, processing instructions and DOCTYPE carry no
                // results; a DOCTYPE's entity declarations are deliberately ignored.
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if self.depth > 0 {
            let end = self.reader.buffer_position();
            return Err(self.malformed(
                format!(
                    "unexpected end of input: {} element(s) left open",
                    self.depth
                ),
                end,
            ));
        }
        if !self.saw_root {
            return Err(JunitError::Empty);
        }
        Ok(self.results)
    }

    fn open(&mut self, e: &BytesStart<'_>, at: u64) -> Result<(), JunitError> {
        self.depth += 1;
        self.elements += 1;
        if self.depth > self.limits.max_depth {
            return Err(JunitError::LimitExceeded {
                limit: LimitKind::Depth,
                max: self.limits.max_depth,
                position: self.pos(at),
            });
        }
        if self.elements > self.limits.max_elements {
            return Err(JunitError::LimitExceeded {
                limit: LimitKind::Elements,
                max: self.limits.max_elements,
                position: self.pos(at),
            });
        }
        let local = e.local_name();
        let name = local.as_ref();

        if self.depth == 1 {
            self.saw_root = true;
            if name != b"testsuites" && name != b"testsuite" {
                return Err(JunitError::NotJunit {
                    root: String::from_utf8_lossy(name).chars().take(64).collect(),
                    position: self.pos(at),
                });
            }
        }

        if let Some(case) = self.case.as_mut() {
            // Only direct children decide the status; anything deeper (stackTrace,
            // system-out, properties) is content.
            if self.depth == case.depth + 1
                && let Some(kind) = ChildKind::from_local_name(name)
            {
                match kind {
                    ChildKind::Failure => case.has_failure = true,
                    ChildKind::Error => case.has_error = true,
                    ChildKind::Skipped => case.has_skipped = true,
                    ChildKind::Flaky | ChildKind::Rerun => {
                        case.retries = case.retries.saturating_add(1);
                    }
                }
                let attrs = read_attributes(e, &[b"message"])
                    .map_err(|(msg, rel)| self.malformed(msg, at.saturating_add(rel)))?;
                let case = self.case.as_mut();
                if let Some(slot) = case.and_then(|c| c.slot(kind))
                    && slot.is_none()
                {
                    match attrs.into_iter().next().flatten() {
                        Some(m) if !m.trim().is_empty() => {
                            *slot = Some(truncate(m.trim(), self.limits.max_message_bytes));
                        }
                        _ => {
                            *slot = Some(String::new());
                            self.capture = Some(Capture {
                                depth: self.depth,
                                kind,
                                text: String::new(),
                            });
                        }
                    }
                }
            }
            return Ok(());
        }

        match name {
            b"testsuite" | b"testsuites" => {
                let attrs = read_attributes(e, &[b"name", b"file"])
                    .map_err(|(msg, rel)| self.malformed(msg, at.saturating_add(rel)))?;
                let mut it = attrs.into_iter();
                let name = it.next().flatten().filter(|n| !n.trim().is_empty());
                let file = it.next().flatten().filter(|f| !f.trim().is_empty());
                self.suites.push(SuiteFrame {
                    depth: self.depth,
                    name,
                    file,
                });
            }
            b"testcase" => {
                if self.results.len() >= self.limits.max_results {
                    return Err(JunitError::LimitExceeded {
                        limit: LimitKind::Results,
                        max: self.limits.max_results,
                        position: self.pos(at),
                    });
                }
                let attrs =
                    read_attributes(e, &[b"name", b"classname", b"time", b"file", b"filepath"])
                        .map_err(|(msg, rel)| self.malformed(msg, at.saturating_add(rel)))?;
                let mut it = attrs.into_iter();
                let name = it.next().flatten();
                let classname = it.next().flatten();
                let time = it.next().flatten();
                let file = it.next().flatten();
                let filepath = it.next().flatten();
                let suite = classname
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .or_else(|| self.suites.iter().rev().find_map(|s| s.name.clone()))
                    .unwrap_or_else(|| "(unknown)".to_owned());
                let name = name
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "(unnamed)".to_owned());
                let file = file
                    .or(filepath)
                    .filter(|f| !f.trim().is_empty())
                    .or_else(|| self.suites.iter().rev().find_map(|s| s.file.clone()));
                self.case = Some(CaseBuilder {
                    depth: self.depth,
                    suite,
                    name,
                    duration_ms: time.as_deref().map_or(0, parse_seconds_to_ms),
                    file,
                    ..CaseBuilder::default()
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn close(&mut self) {
        if let Some(cap) = self.capture.take_if(|c| c.depth == self.depth) {
            let text = truncate(cap.text.trim(), self.limits.max_message_bytes);
            if let Some(slot) = self.case.as_mut().and_then(|c| c.slot(cap.kind)) {
                *slot = Some(text);
            }
        }
        if let Some(case) = self.case.take_if(|c| c.depth == self.depth) {
            self.results.push(case.finish());
        }
        if self.suites.last().is_some_and(|s| s.depth == self.depth) {
            self.suites.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    fn push_text(&mut self, text: &str) {
        if let Some(cap) = self.capture.as_mut() {
            // Keep a little slack over the cap so trimming leading whitespace later does
            // not shorten a message below it; stop growing after that.
            let budget = self.limits.max_message_bytes.saturating_mul(2).max(64);
            let room = budget.saturating_sub(cap.text.len());
            if room > 0 {
                cap.text.push_str(&truncate(text, room));
            }
        }
    }
}

/// Resolves `&…;` in text: character references and the five predefined entities. Any
/// other name would need the DTD, which is never read, so it stays literal.
fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> String {
    if r.is_char_ref() {
        if let Ok(Some(c)) = r.resolve_char_ref() {
            return c.to_string();
        }
    } else {
        let name = String::from_utf8_lossy(r);
        if let Some(v) = quick_xml::escape::resolve_predefined_entity(&name) {
            return v.to_owned();
        }
    }
    format!("&{};", String::from_utf8_lossy(r))
}

/// Reads the wanted attributes (by local name) in the order asked. Errors carry the offset
/// relative to the start of the tag.
#[allow(clippy::type_complexity)]
fn read_attributes(
    e: &BytesStart<'_>,
    wanted: &[&[u8]],
) -> Result<Vec<Option<String>>, (String, u64)> {
    let mut out: Vec<Option<String>> = vec![None; wanted.len()];
    for attr in e.attributes() {
        let attr = match attr {
            Ok(a) => a,
            Err(err) => {
                let rel = attr_error_offset(&err);
                return Err((err.to_string(), rel));
            }
        };
        let key = attr.key.local_name();
        let Some(idx) = wanted.iter().position(|w| *w == key.as_ref()) else {
            continue;
        };
        let raw = String::from_utf8_lossy(&attr.value);
        let value = quick_xml::escape::unescape(&raw)
            .map(Cow::into_owned)
            .unwrap_or_else(|_| raw.into_owned());
        if let Some(slot) = out.get_mut(idx) {
            *slot = Some(value);
        }
    }
    Ok(out)
}

fn attr_error_offset(err: &quick_xml::events::attributes::AttrError) -> u64 {
    use quick_xml::events::attributes::AttrError as A;
    let rel = match err {
        A::ExpectedEq(p)
        | A::ExpectedValue(p)
        | A::UnquotedValue(p)
        | A::ExpectedQuote(p, _)
        | A::Duplicated(p, _) => *p,
    };
    // The offset counts from after `<`.
    (rel as u64).saturating_add(1)
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_owned()
}

/// `time="…"` in seconds → whole milliseconds; see the module docs for odd values.
pub fn parse_seconds_to_ms(raw: &str) -> u64 {
    let mut s = raw.trim();
    if let Some(stripped) = s.strip_suffix('s') {
        s = stripped.trim_end();
    }
    let normalized: Cow<'_, str> = if s.contains(',') {
        if is_thousands_grouped(s) {
            Cow::Owned(s.replace(',', ""))
        } else if !s.contains('.') && s.matches(',').count() == 1 {
            Cow::Owned(s.replace(',', "."))
        } else {
            return 0;
        }
    } else {
        Cow::Borrowed(s)
    };
    match normalized.parse::<f64>() {
        // `as` saturates for floats: 1e300 s becomes u64::MAX rather than wrapping.
        Ok(secs) if secs.is_finite() && secs > 0.0 => (secs * 1000.0).round() as u64,
        _ => 0,
    }
}

/// `1,234` or `12,345,678.9`: every comma followed by exactly three digits, and the
/// leading group 1–3 digits.
fn is_thousands_grouped(s: &str) -> bool {
    let int_part = s.split('.').next().unwrap_or_default();
    let int_part = int_part.strip_prefix(['-', '+']).unwrap_or(int_part);
    let mut groups = int_part.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    first_ok && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Vec<TestResult>, JunitError> {
        parse(s.as_bytes())
    }

    #[test]
    fn time_values() {
        let cases = [
            ("0.683", 683),
            ("", 0),
            ("  ", 0),
            ("1,234.5", 1_234_500),
            ("12,345,678", 12_345_678_000),
            ("0,25", 250),
            ("-3", 0),
            ("NaN", 0),
            ("inf", 0),
            ("abc", 0),
            ("1.5s", 1500),
            ("0.0004", 0),
            ("0.0005", 1),
            ("1e300", u64::MAX),
            ("1,2,3", 0),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_seconds_to_ms(raw), want, "time={raw:?}");
        }
    }

    #[test]
    fn bare_testsuite_and_statuses() {
        let xml = r#"<testsuite name="S">
            <testcase time="1" name="p" classname="C"/>
            <testcase name="f"><failure message="boom">trace</failure></testcase>
            <testcase name="e"><error>kaput</error></testcase>
            <testcase name="s"><skipped/></testcase>
            <testcase name="fe"><error/><failure/></testcase>
        </testsuite>"#;
        let r = parse_str(xml).unwrap();
        let got: Vec<_> = r
            .iter()
            .map(|t| (t.suite.as_str(), t.test_name.as_str(), t.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("C", "p", Status::Passed),
                ("S", "f", Status::Failed),
                ("S", "e", Status::Error),
                ("S", "s", Status::Skipped),
                ("S", "fe", Status::Failed),
            ]
        );
        assert_eq!(r[0].duration_ms, 1000);
        assert_eq!(r[1].message.as_deref(), Some("boom"));
        assert_eq!(r[2].message.as_deref(), Some("kaput"));
        assert_eq!(r[3].message, None);
    }

    #[test]
    fn nested_suites_use_nearest_named_suite() {
        let xml = r#"<?xml version="1.0"?>
        <testsuites name="all">
          <testsuite name="outer" file="a/b.php">
            <testsuite name="">
              <testcase name="deep" classname="  "/>
            </testsuite>
            <testsuite name="inner"><testcase name="x"/></testsuite>
          </testsuite>
          <testcase name="loose"/>
        </testsuites>"#;
        let r = parse_str(xml).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].suite, "outer");
        assert_eq!(r[0].file.as_deref(), Some("a/b.php"));
        assert_eq!(r[1].suite, "inner");
        assert_eq!(r[2].suite, "all");
    }

    #[test]
    fn surefire_reruns() {
        let xml = r#"<testsuite name="S">
          <testcase name="flaky" classname="C">
            <flakyFailure message="first"/><flakyError message="second"/>
          </testcase>
          <testcase name="broken" classname="C">
            <failure message="1"/><rerunFailure message="2"/><rerunError/>
          </testcase>
        </testsuite>"#;
        let r = parse_str(xml).unwrap();
        assert_eq!(r[0].status, Status::Passed);
        assert_eq!(r[0].retries, 2);
        assert!(r[0].is_retry_pass());
        assert_eq!(r[0].message.as_deref(), Some("first"));
        assert_eq!(r[1].status, Status::Failed);
        assert_eq!(r[1].retries, 2);
        assert!(!r[1].is_retry_pass());
    }

    #[test]
    fn attribute_order_entities_cdata_namespaces() {
        let xml = "<ns:testsuites xmlns:ns=\"urn:x\"><ns:testsuite name=\"S\">\
            <ns:testcase time=\"0.5\" ns:classname=\"A&amp;B\" name=\"t &lt;1&gt; &#x263A;\">\
            <ns:failure><![CDATA[x < y & z]]> &amp; &unknown; &#65;</ns:failure></ns:testcase>\
            </ns:testsuite></ns:testsuites>";
        let r = parse_str(xml).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].suite, "A&B");
        assert_eq!(r[0].test_name, "t <1> \u{263A}");
        assert_eq!(r[0].duration_ms, 500);
        assert_eq!(r[0].message.as_deref(), Some("x < y & z & &unknown; A"));
    }

    #[test]
    fn bare_ampersands_in_traces_are_kept() {
        let xml = r#"<testsuite name="S"><testcase name="a" classname="x &amp;& y"><failure>if (a && b) fails</failure></testcase></testsuite>"#;
        let r = parse_str(xml).unwrap();
        assert_eq!(r[0].message.as_deref(), Some("if (a && b) fails"));
        assert_eq!(
            r[0].suite, "x &amp;& y",
            "an attribute that fails to unescape is kept raw"
        );
    }

    #[test]
    fn doctype_entities_are_not_expanded() {
        let xml = r#"<?xml version="1.0"?>
<!DOCTYPE testsuite [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> <!ENTITY a "aaaaaaaaaa"> ]>
<testsuite name="S"><testcase name="&xxe;&a;"><failure>&xxe;</failure></testcase></testsuite>"#;
        let r = parse_str(xml).unwrap();
        assert_eq!(r[0].test_name, "&xxe;&a;");
        assert_eq!(r[0].message.as_deref(), Some("&xxe;"));
    }

    #[test]
    fn boms() {
        let mut utf8 = b"\xEF\xBB\xBF".to_vec();
        utf8.extend_from_slice(b"<testsuite name=\"S\"><testcase name=\"a\"/></testsuite>");
        assert_eq!(parse(&utf8).unwrap().len(), 1);

        let text = "<testsuite name=\"S\"><testcase name=\"\u{e9}\"/></testsuite>";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(parse(&le).unwrap()[0].test_name, "\u{e9}");
        assert_eq!(parse(&be).unwrap()[0].test_name, "\u{e9}");

        // A BOM before an error still gives a position in the caller's bytes.
        let mut bad = b"\xEF\xBB\xBF".to_vec();
        bad.extend_from_slice(b"<testsuite>\n<testcase></testsuite>");
        let err = parse(&bad).unwrap_err();
        let pos = err.position().unwrap();
        assert_eq!(pos.line, 2);
    }

    #[test]
    fn malformed_reports_position() {
        let xml = "<testsuite name=\"S\">\n  <testcase name=\"a\">\n  </testsuit>\n</testsuite>";
        let err = parse_str(xml).unwrap_err();
        let JunitError::Malformed { position, message } = &err else {
            panic!("expected Malformed, got {err:?}");
        };
        assert_eq!(position.line, 3, "{message}");
        assert_eq!(position.column, 3, "{message}");
        assert_eq!(position.byte, xml.find("</testsuit>").unwrap() as u64);
        assert!(err.to_string().contains("line 3, column 3"), "{err}");
    }

    #[test]
    fn truncated_input_is_malformed() {
        for xml in [
            "<testsuite name=\"S\"><testcase name=\"a\">",
            "<testsuite name=\"S\"><testcase name=\"a",
            "<testsuite name=\"S\"><!-- never closed",
        ] {
            let err = parse_str(xml).unwrap_err();
            assert!(
                matches!(err, JunitError::Malformed { .. }),
                "{xml}: {err:?}"
            );
        }
    }

    #[test]
    fn bad_attributes_are_malformed_with_position() {
        let xml = "<testsuite name=\"S\">\n<testcase name=\"a\" name=\"b\"/></testsuite>";
        let err = parse_str(xml).unwrap_err();
        assert!(matches!(err, JunitError::Malformed { .. }), "{err:?}");
        assert_eq!(err.position().unwrap().line, 2);
        let xml = "<testsuite name=S><testcase/></testsuite>";
        assert!(matches!(parse_str(xml), Err(JunitError::Malformed { .. })));
    }

    #[test]
    fn empty_and_foreign_roots() {
        assert_eq!(parse_str(""), Err(JunitError::Empty));
        assert_eq!(
            parse_str("<?xml version=\"1.0\"?>\n<!-- c -->"),
            Err(JunitError::Empty)
        );
        assert!(matches!(
            parse_str("<html><body/></html>"),
            Err(JunitError::NotJunit { .. })
        ));
        assert_eq!(parse_str("<testsuites/>"), Ok(vec![]));
    }

    #[test]
    fn depth_cap() {
        let limits = Limits {
            max_depth: 8,
            ..Limits::default()
        };
        let deep = format!(
            "<testsuites>{}{}</testsuites>",
            "<testsuite>".repeat(10),
            "</testsuite>".repeat(10)
        );
        let err = parse_with_limits(deep.as_bytes(), &limits).unwrap_err();
        assert!(
            matches!(
                err,
                JunitError::LimitExceeded {
                    limit: LimitKind::Depth,
                    max: 8,
                    ..
                }
            ),
            "{err:?}"
        );
        // Default cap stops a pathological nesting long before the stack matters.
        let very_deep = "<testsuite>".repeat(100_000);
        assert!(matches!(
            parse(very_deep.as_bytes()),
            Err(JunitError::LimitExceeded {
                limit: LimitKind::Depth,
                ..
            })
        ));
    }

    #[test]
    fn element_and_result_caps() {
        let many = format!(
            "<testsuite name=\"S\">{}</testsuite>",
            "<testcase name=\"t\"/>".repeat(20)
        );
        let limits = Limits {
            max_results: 10,
            ..Limits::default()
        };
        let err = parse_with_limits(many.as_bytes(), &limits).unwrap_err();
        assert!(
            matches!(
                err,
                JunitError::LimitExceeded {
                    limit: LimitKind::Results,
                    max: 10,
                    ..
                }
            ),
            "{err:?}"
        );
        let limits = Limits {
            max_results: 20,
            ..Limits::default()
        };
        assert_eq!(
            parse_with_limits(many.as_bytes(), &limits).unwrap().len(),
            20
        );

        let limits = Limits {
            max_elements: 15,
            ..Limits::default()
        };
        let err = parse_with_limits(many.as_bytes(), &limits).unwrap_err();
        assert!(
            matches!(
                err,
                JunitError::LimitExceeded {
                    limit: LimitKind::Elements,
                    ..
                }
            ),
            "{err:?}"
        );

        // The ingestion contract: exactly 50,000 is fine, one more is refused.
        let ok = format!(
            "<testsuite name=\"S\">{}</testsuite>",
            "<testcase name=\"t\"/>".repeat(50_000)
        );
        assert_eq!(parse(ok.as_bytes()).unwrap().len(), 50_000);
        let over = format!(
            "<testsuite name=\"S\">{}</testsuite>",
            "<testcase name=\"t\"/>".repeat(50_001)
        );
        assert!(matches!(
            parse(over.as_bytes()),
            Err(JunitError::LimitExceeded {
                limit: LimitKind::Results,
                ..
            })
        ));
    }

    #[test]
    fn long_messages_are_capped_on_char_boundary() {
        let body = "\u{e9}".repeat(10_000);
        let xml = format!(
            "<testsuite name=\"S\"><testcase name=\"a\"><failure>{body}</failure></testcase></testsuite>"
        );
        let r = parse_str(&xml).unwrap();
        let m = r[0].message.as_deref().unwrap();
        assert!(m.len() <= Limits::default().max_message_bytes);
        assert!(m.len() >= Limits::default().max_message_bytes - 1);
    }

    #[test]
    fn missing_names() {
        let r = parse_str("<testsuite><testcase/></testsuite>").unwrap();
        assert_eq!(r[0].suite, "(unknown)");
        assert_eq!(r[0].test_name, "(unnamed)");
    }

    #[test]
    fn summary_counts() {
        let xml = r#"<testsuite name="S">
            <testcase name="a"/><testcase name="b"><flakyFailure/></testcase>
            <testcase name="c"><failure/><rerunFailure/></testcase>
            <testcase name="d"><error/></testcase><testcase name="e"><skipped/></testcase>
        </testsuite>"#;
        let s = Summary::of(&parse_str(xml).unwrap());
        assert_eq!(
            s,
            Summary {
                total: 5,
                passed: 2,
                failed: 1,
                errors: 1,
                skipped: 1,
                retry_passes: 1,
                retries: 2
            }
        );
    }

    #[test]
    fn status_wire_format() {
        assert_eq!(serde_json::to_string(&Status::Error).unwrap(), "\"error\"");
        assert_eq!("skipped".parse::<Status>(), Ok(Status::Skipped));
        assert!("flaky".parse::<Status>().is_err());
        let r = TestResult {
            suite: "s".into(),
            test_name: "t".into(),
            status: Status::Passed,
            duration_ms: 3,
            retries: 0,
            file: None,
            message: None,
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["testName"], "t");
        assert_eq!(v["durationMs"], 3);
    }
}
