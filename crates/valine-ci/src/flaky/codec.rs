//! The stored form of a [`Rollup`]: compact text, written at every ingest and read back
//! for every bucket a flaky-candidates query merges, so its size and decode cost are on
//! both hot paths.
//!
//! ```text
//! r1 passed failed errors skipped flips retryPasses mixedCommits durationSumMs lastRunAt first last commit…
//! ```
//!
//! Space-separated; numbers in decimal; `lastRunAt`, `first` and `last` are `-` when
//! absent. An edge is one flag digit (1 = failed, 2 = passed on its own retry, summed)
//! then the run hash in hex; a commit is its hash in hex, `:`, and its outcome bits. The
//! suite and test name are not stored: they are the row's key. Text written before this
//! format (serde JSON, starting with `{`) still decodes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Edge, Rollup};

const TAG: &str = "r1";

/// A stored rollup that is neither the compact form nor the older JSON.
#[derive(Debug, thiserror::Error)]
#[error("stored rollup does not decode: {0}")]
pub struct DecodeError(String);

impl Rollup {
    /// The stored form (see the module docs).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(64 + self.commits.len() * 20);
        out.push_str(TAG);
        for n in [
            self.passed,
            self.failed,
            self.errors,
            self.skipped,
            self.flips,
            self.retry_passes,
            self.mixed_commits,
            self.duration_sum_ms,
        ] {
            let _ = write!(out, " {n}");
        }
        match self.last_run_at {
            Some(t) => {
                let _ = write!(out, " {t}");
            }
            None => out.push_str(" -"),
        }
        for edge in [self.first, self.last] {
            match edge {
                Some(e) => {
                    let flags = u8::from(e.failed) + 2 * u8::from(e.retried);
                    let _ = write!(out, " {flags}{:x}", e.run);
                }
                None => out.push_str(" -"),
            }
        }
        for (commit, bits) in &self.commits {
            let _ = write!(out, " {commit:x}:{bits}");
        }
        out
    }

    /// Reads a stored rollup of `suite`/`test_name` back.
    pub fn decode(
        suite: impl Into<String>,
        test_name: impl Into<String>,
        data: &str,
    ) -> Result<Rollup, DecodeError> {
        if data.starts_with('{') {
            let mut rollup: Rollup =
                serde_json::from_str(data).map_err(|e| DecodeError(e.to_string()))?;
            rollup.suite = suite.into();
            rollup.test_name = test_name.into();
            return Ok(rollup);
        }
        let (head, mut commits) = parse_head(data)?;
        let mut rollup = head.into_rollup(suite.into(), test_name.into());
        while let Some(token) = commits.next() {
            let (hash, bits) = commit(token)?;
            rollup.commits.insert(hash, bits);
        }
        Ok(rollup)
    }

    /// [`Rollup::merge`] of a stored later rollup, read straight from its stored form
    /// (no intermediate rollup or commit map: the flaky-candidates query merges tens of
    /// thousands of buckets).
    pub fn merge_encoded(&mut self, data: &str) -> Result<(), DecodeError> {
        if data.starts_with('{') {
            let later = Rollup::decode(String::new(), String::new(), data)?;
            self.merge(&later);
            return Ok(());
        }
        let (head, mut commits) = parse_head(data)?;
        let later = head.into_rollup(String::new(), String::new());
        self.merge(&later);
        while let Some(token) = commits.next() {
            let (hash, bits) = commit(token)?;
            self.add_commit_bits(hash, bits);
        }
        Ok(())
    }
}

/// Everything of a stored rollup but its commits.
struct Head {
    counters: [u64; 8],
    last_run_at: Option<i64>,
    first: Option<Edge>,
    last: Option<Edge>,
}

impl Head {
    fn into_rollup(self, suite: String, test_name: String) -> Rollup {
        let [
            passed,
            failed,
            errors,
            skipped,
            flips,
            retry_passes,
            mixed_commits,
            duration_sum_ms,
        ] = self.counters;
        Rollup {
            suite,
            test_name,
            passed,
            failed,
            errors,
            skipped,
            flips,
            retry_passes,
            mixed_commits,
            duration_sum_ms,
            last_run_at: self.last_run_at,
            first: self.first,
            last: self.last,
            commits: BTreeMap::new(),
        }
    }
}

/// Space-separated tokens of a stored rollup, read byte by byte: a flaky-candidates
/// query reads hundreds of thousands of them, and `str::split` plus `str::parse` per token
/// were most of its CPU time.
struct Tokens<'a> {
    rest: &'a [u8],
}

impl<'a> Tokens<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self
            .rest
            .iter()
            .position(|&b| b == b' ')
            .unwrap_or(self.rest.len());
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest.get(1..).unwrap_or_default();
        Some(token)
    }

    fn expect(&mut self, what: &str) -> Result<&'a [u8], DecodeError> {
        self.next()
            .ok_or_else(|| DecodeError(format!("{what} is missing")))
    }
}

/// The head of a compact rollup, and its commit tokens.
fn parse_head(data: &str) -> Result<(Head, Tokens<'_>), DecodeError> {
    let mut tokens = Tokens {
        rest: data.as_bytes(),
    };
    if tokens.next() != Some(TAG.as_bytes()) {
        return Err(DecodeError("unknown format".into()));
    }
    let mut counters = [0u64; 8];
    for c in &mut counters {
        *c = decimal(tokens.expect("a counter")?)?;
    }
    let last_run_at = match tokens.expect("lastRunAt")? {
        b"-" => None,
        [b'-', digits @ ..] => Some(
            0i64.checked_sub_unsigned(decimal(digits)?)
                .ok_or_else(|| bad(digits))?,
        ),
        digits => Some(i64::try_from(decimal(digits)?).map_err(|_| bad(digits))?),
    };
    let first = edge(tokens.expect("first")?)?;
    let last = edge(tokens.expect("last")?)?;
    Ok((
        Head {
            counters,
            last_run_at,
            first,
            last,
        },
        tokens,
    ))
}

/// `hash:bits`, bits 1–3.
fn commit(token: &[u8]) -> Result<(u64, u8), DecodeError> {
    match token {
        [hash @ .., b':', bits @ b'1'..=b'3'] => Ok((hex(hash)?, bits - b'0')),
        _ => Err(bad(token)),
    }
}

fn bad(token: &[u8]) -> DecodeError {
    DecodeError(format!("unexpected {:?}", String::from_utf8_lossy(token)))
}

fn decimal(token: &[u8]) -> Result<u64, DecodeError> {
    if token.is_empty() {
        return Err(bad(token));
    }
    let mut n: u64 = 0;
    for &b in token {
        let d = match b {
            b'0'..=b'9' => u64::from(b - b'0'),
            _ => return Err(bad(token)),
        };
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(d))
            .ok_or_else(|| bad(token))?;
    }
    Ok(n)
}

fn hex(token: &[u8]) -> Result<u64, DecodeError> {
    if token.is_empty() || token.len() > 16 {
        return Err(bad(token));
    }
    let mut n: u64 = 0;
    for &b in token {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return Err(bad(token)),
        };
        n = (n << 4) | u64::from(d);
    }
    Ok(n)
}

/// `-`, or a flag digit (1 failed + 2 retried) and the run hash in hex.
fn edge(token: &[u8]) -> Result<Option<Edge>, DecodeError> {
    match token {
        b"-" => Ok(None),
        [flags @ b'0'..=b'3', run @ ..] => {
            let flags = flags - b'0';
            Ok(Some(Edge {
                failed: flags & 1 != 0,
                retried: flags & 2 != 0,
                run: hex(run)?,
            }))
        }
        _ => Err(bad(token)),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::flaky::Observation;
    use crate::junit::Status;

    fn sample() -> Rollup {
        let mut r = Rollup::new("app.Suite", "test one");
        for (i, status) in [
            Status::Passed,
            Status::Failed,
            Status::Skipped,
            Status::Error,
            Status::Passed,
        ]
        .into_iter()
        .enumerate()
        {
            r.push(&Observation {
                run_id: format!("run-{}", i / 2),
                commit_sha: Some(format!("c{}", i / 3)),
                status,
                retries: u32::from(i == 4),
                duration_ms: 10 * i as u64,
                run_at: 1_000 + i as i64,
            });
        }
        r
    }

    #[test]
    fn round_trips_and_is_smaller_than_json() {
        let r = sample();
        let text = r.encode();
        assert!(text.starts_with("r1 2 2 1 1 "), "{text}");
        assert_eq!(Rollup::decode("app.Suite", "test one", &text).unwrap(), r);
        let json = serde_json::to_string(&r).unwrap();
        assert!(text.len() * 2 < json.len(), "{text} vs {json}");
        // Nothing a query separates buckets with (0x1E/0x1F) can appear.
        assert!(!text.contains(['\u{1e}', '\u{1f}']));
    }

    #[test]
    fn empty_rollup_round_trips() {
        let r = Rollup::new("s", "t");
        assert_eq!(r.encode(), "r1 0 0 0 0 0 0 0 0 - - -");
        assert_eq!(Rollup::decode("s", "t", &r.encode()).unwrap(), r);
    }

    #[test]
    fn extreme_instants_round_trip() {
        for at in [i64::MIN, -1, 0, i64::MAX] {
            let mut r = Rollup::new("s", "t");
            r.last_run_at = Some(at);
            assert_eq!(Rollup::decode("s", "t", &r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn rollups_stored_as_json_still_decode() {
        let r = sample();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(Rollup::decode("app.Suite", "test one", &json).unwrap(), r);
    }

    #[test]
    fn merging_stored_text_equals_merging_rollups() {
        let a = sample();
        let mut b = Rollup::new("app.Suite", "test one");
        b.push(&Observation {
            run_id: "run-9".into(),
            commit_sha: Some("c1".into()),
            status: Status::Failed,
            retries: 0,
            duration_ms: 5,
            run_at: 9_000,
        });
        let mut expected = a.clone();
        expected.merge(&b);
        let mut got = a.clone();
        got.merge_encoded(&b.encode()).unwrap();
        assert_eq!(got, expected);
        let mut from_json = a;
        from_json
            .merge_encoded(&serde_json::to_string(&b).unwrap())
            .unwrap();
        assert_eq!(from_json, expected);
        assert!(expected.mixed_commits > 0);
    }

    #[test]
    fn malformed_text_is_an_error() {
        for bad in [
            "",
            "r2 0 0 0 0 0 0 0 0 - - -",
            "r1 0 0 0",
            "r1 0 0 0 0 0 0 0 x - - -",
            "r1 0 0 0 0 0 0 0 0 - 9ab -",
            "r1 0 0 0 0 0 0 0 0 - - - ff",
            "r1 0 0 0 0 0 0 0 0 - - - zz:1",
            "r1 0 0 0 0 0 0 0 0 - - - ff:4",
            "r1 0 0 0 0 0 0 0 0 - - - ff:0",
            "r1 0 0 0 0 0 0 0 0 - 1 -",
            "r1 0 0 0 0 0 0 0 0 - 4ab -",
            "r1 0 0 0 0 0 0 0 0 - 1FF -",
            "r1 0 0 0 0 0 0 0 0 - 11ffffffffffffffff -",
            "r1 99999999999999999999 0 0 0 0 0 0 0 - - -",
            "r1 0 0 0 0 0 0 0 0 -- - -",
            "r1 0 0 0 0 0 0 0 +1 - - -",
            "{not json",
        ] {
            assert!(Rollup::decode("s", "t", bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_history_round_trips(
            steps in proptest::collection::vec((0u8..4, 0u8..4, 0u8..3, 0u32..3, 0u64..1000), 0..40)
        ) {
            let mut r = Rollup::new("s", "t");
            for (i, (status, run, commit, retries, duration)) in steps.into_iter().enumerate() {
                let status = [Status::Passed, Status::Failed, Status::Error, Status::Skipped][usize::from(status)];
                r.push(&Observation {
                    run_id: format!("r{run}"),
                    commit_sha: (commit > 0).then(|| format!("c{commit}")),
                    status,
                    retries,
                    duration_ms: duration,
                    run_at: i as i64 * 7 - 100,
                });
            }
            prop_assert_eq!(Rollup::decode("s", "t", &r.encode()).unwrap(), r);
        }
    }
}
