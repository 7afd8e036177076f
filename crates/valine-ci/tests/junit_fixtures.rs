//! Every shared JUnit fixture parses with the counts established by reading each file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use proptest::prelude::*;
use valine_ci::junit::{self, Status, Summary};

fn fixtures_dir() -> PathBuf {
    // CI checks the repository out next to `shared/`, so the fixtures live three levels
    // above this crate's manifest.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/junit");
    assert!(
        dir.is_dir(),
        "JUnit fixtures not found at {} — `shared/` must sit beside the repository checkout",
        dir.display()
    );
    dir
}

fn read(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

struct Expected {
    file: &'static str,
    cases: usize,
    passed: usize,
    failed: usize,
    errors: usize,
    skipped: usize,
    retry_passes: usize,
    retries: u64,
}

/// Counted by hand from each file (and cross-checked with grep for `<testcase`,
/// `<failure`, `<error`, `<skipped`, `<flakyFailure`).
const EXPECTED: &[Expected] = &[
    Expected {
        file: "01-surefire-soda-msteams-flaky.xml",
        cases: 1,
        passed: 1,
        failed: 0,
        errors: 0,
        skipped: 0,
        retry_passes: 1,
        retries: 1,
    },
    Expected {
        file: "04-nextest-parry3d.xml",
        cases: 3,
        passed: 2,
        failed: 1,
        errors: 0,
        skipped: 0,
        retry_passes: 0,
        retries: 0,
    },
    Expected {
        file: "06-gradle-spring-powerdroid.xml",
        cases: 3,
        passed: 2,
        failed: 1,
        errors: 0,
        skipped: 0,
        retry_passes: 0,
        retries: 0,
    },
    Expected {
        file: "09-playwright-digest-repro.xml",
        cases: 28,
        passed: 11,
        failed: 1,
        errors: 0,
        skipped: 16,
        retry_passes: 0,
        retries: 0,
    },
    Expected {
        file: "10-pytest-props-xfail.xml",
        cases: 10,
        passed: 6,
        failed: 2,
        errors: 0,
        skipped: 2,
        retry_passes: 0,
        retries: 0,
    },
    Expected {
        file: "11-jest-junit-empty-classname.xml",
        cases: 2,
        passed: 2,
        failed: 0,
        errors: 0,
        skipped: 0,
        retry_passes: 0,
        retries: 0,
    },
    Expected {
        file: "13-dotnet-trx2junit-xunit.xml",
        cases: 3,
        passed: 2,
        failed: 1,
        errors: 0,
        skipped: 0,
        retry_passes: 0,
        retries: 0,
    },
];

#[test]
fn every_fixture_is_covered() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = EXPECTED.iter().map(|e| e.file.to_owned()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "a fixture was added or removed: update EXPECTED"
    );
}

#[test]
fn fixture_counts() {
    for e in EXPECTED {
        let results = junit::parse(&read(e.file)).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let got = Summary::of(&results);
        let want = Summary {
            total: e.cases,
            passed: e.passed,
            failed: e.failed,
            errors: e.errors,
            skipped: e.skipped,
            retry_passes: e.retry_passes,
            retries: e.retries,
        };
        assert_eq!(got, want, "{}", e.file);
    }
}

#[test]
fn fixture_details() {
    let r = junit::parse(&read("01-surefire-soda-msteams-flaky.xml")).unwrap();
    assert_eq!(
        r[0].suite,
        "io.sodadata.dependson.soda.integrations.msteams.MicrosoftTeamsCrudTest"
    );
    assert_eq!(r[0].test_name, "createWebhook");
    assert_eq!(r[0].duration_ms, 683);
    assert!(r[0].is_retry_pass());
    // The message attribute's entities (&#10;, &lt;) are decoded.
    assert_eq!(
        r[0].message.as_deref(),
        Some("Expected: <false>\n     but: was <true>")
    );

    // jest-junit writes classname="": the enclosing testsuite's name is used instead.
    let r = junit::parse(&read("11-jest-junit-empty-classname.xml")).unwrap();
    assert!(r.iter().all(|t| t.suite == "widget.test.js"), "{r:?}");
    assert_eq!(r[1].test_name, "Mount iframe");
    assert_eq!(r[1].duration_ms, 23);

    // nextest failure without a message attribute: the text becomes the message.
    let r = junit::parse(&read("04-nextest-parry3d.xml")).unwrap();
    assert_eq!(r[0].status, Status::Failed);
    assert!(
        r[0].message
            .as_deref()
            .unwrap()
            .starts_with("thread 'test_failure' panicked")
    );
    assert_eq!(r[0].suite, "oxidized_navigation::parry3d");

    let r = junit::parse(&read("10-pytest-props-xfail.xml")).unwrap();
    assert_eq!(r[9].suite, "custom_classname");
    assert_eq!(r[6].status, Status::Skipped);
    assert_eq!(r[6].message, None, "xfail has an empty message");

    let r = junit::parse(&read("09-playwright-digest-repro.xml")).unwrap();
    let failed: Vec<_> = r.iter().filter(|t| t.status == Status::Failed).collect();
    assert_eq!(failed[0].test_name, "Dummy page3 dummy 1");
    assert_eq!(
        failed[0].message.as_deref(),
        Some("dummy5.spec.ts:4:3 dummy 1")
    );

    let r = junit::parse(&read("13-dotnet-trx2junit-xunit.xml")).unwrap();
    assert_eq!(r[2].duration_ms, 1016);
}

#[test]
fn truncated_fixtures_are_errors_with_positions() {
    for e in EXPECTED {
        let bytes = read(e.file);
        // Cutting inside the root element always leaves something open.
        let cut = &bytes[..bytes.len() * 2 / 3];
        let err = junit::parse(cut).expect_err(e.file);
        let pos = err
            .position()
            .unwrap_or_else(|| panic!("{}: no position in {err:?}", e.file));
        assert!(
            pos.line >= 1 && pos.column >= 1 && pos.byte <= cut.len() as u64,
            "{}: {pos:?}",
            e.file
        );
    }
}

fn all_fixtures() -> Vec<Vec<u8>> {
    EXPECTED.iter().map(|e| read(e.file)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = junit::parse(&bytes);
    }

    #[test]
    fn never_panics_on_xmlish_text(s in "[<>/a-z =\"'&;#x0-9!\\[\\]CDATA?-]{0,400}") {
        let _ = junit::parse(s.as_bytes());
    }

    #[test]
    fn never_panics_on_mutated_fixtures(
        which in 0usize..7,
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>(), 0u8..3), 1..12),
    ) {
        let mut bytes = all_fixtures().swap_remove(which);
        for (idx, byte, op) in edits {
            if bytes.is_empty() { break; }
            let i = idx.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        match junit::parse(&bytes) {
            Ok(results) => prop_assert!(results.len() <= 28),
            Err(err) => {
                if let Some(p) = err.position() {
                    prop_assert!(p.byte <= bytes.len() as u64);
                }
            }
        }
    }
}
