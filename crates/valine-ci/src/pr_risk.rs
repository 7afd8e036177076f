//! Explainable pull-request risk: a 0–100 score built from named components.
//!
//! # Formula
//!
//! Each file is classified once: *sensitive* (matches [`SensitivePaths`]), *excluded*
//! (a lockfile or generated file that is not sensitive), *documentation*, *test*, *code*,
//! *schema/migration*, *CI*. Sensitive files are never excluded or discounted: noise
//! filtering must not hide a risky change, and it keeps the score monotonic (adding a
//! sensitive file never lowers it).
//!
//! | component | points | rule |
//! | --- | ---: | --- |
//! | `changeSize` | 0–25 | `25 · min(1, log10(1 + L) / log10(2001))`, `L` = added + deleted lines of non-excluded files, documentation at ¼ weight, plus lines the totals report beyond the file list (GitHub events without files) |
//! | `fileCount` | 0–10 | `10 · min(1, log10(1 + N) / log10(51))`, `N` = non-excluded files (documentation at ¼ weight), plus files the count reports beyond the list |
//! | `spread` | 0–10 | `2.5 · (D − 1)`, capped; `D` = top-level areas touched (first path segment; `crates/x`, `packages/x`, `apps/x`, `services/x`, `libs/x` count as their own areas; root files form one area) |
//! | `sensitivePaths` | 0–30 | 20 for the first sensitive file, +5 for each further one |
//! | `schemaChanges` | 0–20 | 15 when a schema or migration file changes (`migrations/`, `migrate/`, `*.sql`, `*.prisma`, `schema.rb`); +5 when an existing migration is modified, renamed or deleted |
//! | `ciChanges` | 0–10 | 10 when CI/workflow configuration changes (`.github/workflows|actions`, `.gitlab-ci.yml`, `.circleci/`, `Jenkinsfile`, `.buildkite/`, `.ci/`, …) |
//! | `testCoverage` | 0–10 | `10 · min(1, log10(1 + C) / log10(501)) · (1 − min(1, 2T / C))`, `C` = lines of code changed, `T` = lines of non-sensitive tests changed: untested code is riskier; tests half the size of the code change remove the penalty |
//!
//! Each component is rounded to whole points; `score = min(100, Σ points)`.
//! `level`: low < 30 ≤ medium < 60 ≤ high < 80 ≤ critical. `reasons` are the details of
//! the (at most three) largest non-zero components, largest first.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::glob::{Glob, GlobError};

/// The default sensitive globs: the seed's `auth|password|secret`, plus keys, migrations,
/// schemas, workflows, containers and infrastructure as code.
pub const DEFAULT_SENSITIVE_GLOBS: &[&str] = &[
    "**/*auth*/**",
    "**/*auth*",
    "**/*password*",
    "**/*passwd*",
    "**/*secret*",
    "**/*secret*/**",
    "**/*credential*",
    "**/migrations/**",
    "**/schema.prisma",
    ".github/workflows/**",
    "**/Dockerfile",
    "**/Dockerfile.*",
    "**/*.pem",
    "**/*.key",
    "**/*.tf",
    "**/*.tfvars",
    "**/deploy/**/*.{yml,yaml}",
    "**/k8s/**/*.{yml,yaml}",
    "**/infra/**/*.{yml,yaml}",
    "**/helm/**",
    "**/charts/**/*.{yml,yaml,tpl}",
];

/// A set of globs deciding which paths are sensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitivePaths {
    globs: Vec<Glob>,
}

impl Default for SensitivePaths {
    fn default() -> Self {
        let globs = DEFAULT_SENSITIVE_GLOBS
            .iter()
            .filter_map(|p| Glob::new(p).ok())
            .collect();
        SensitivePaths { globs }
    }
}

impl SensitivePaths {
    /// Compiles operator-supplied globs (see [`crate::glob`] for the dialect).
    pub fn from_globs<S: AsRef<str>>(patterns: &[S]) -> Result<Self, GlobError> {
        let globs = patterns
            .iter()
            .map(|p| Glob::new(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SensitivePaths { globs })
    }

    /// Parses a `PR_INTEL_SENSITIVE_PATHS` value: globs separated by commas or whitespace
    /// (a glob never needs either; braces are kept together).
    pub fn from_list(value: &str) -> Result<Self, GlobError> {
        let mut patterns = Vec::new();
        let mut current = String::new();
        let mut depth = 0usize;
        for c in value.chars() {
            match c {
                '{' => {
                    depth += 1;
                    current.push(c);
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    current.push(c);
                }
                ',' if depth > 0 => current.push(c),
                c if c == ',' || c.is_whitespace() => {
                    if !current.is_empty() {
                        patterns.push(std::mem::take(&mut current));
                    }
                }
                _ => current.push(c),
            }
        }
        if !current.is_empty() {
            patterns.push(current);
        }
        Self::from_globs(&patterns)
    }

    pub fn is_sensitive(&self, path: &str) -> bool {
        self.globs.iter().any(|g| g.is_match(path))
    }

    pub fn patterns(&self) -> Vec<&str> {
        self.globs.iter().map(Glob::as_str).collect()
    }
}

/// GitHub's file statuses; anything else deserialises as `Other`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Removed,
    #[default]
    Modified,
    Renamed,
    Copied,
    Changed,
    Unchanged,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChange {
    pub path: String,
    #[serde(default)]
    pub additions: u64,
    #[serde(default)]
    pub deletions: u64,
    #[serde(default)]
    pub status: FileStatus,
}

/// What is known about a PR. `files` may be empty (a GitHub `pull_request` event carries
/// only totals); the totals then stand in for the list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrInput {
    #[serde(default)]
    pub files: Vec<FileChange>,
    pub changed_files_count: Option<u32>,
    pub total_additions: Option<u64>,
    pub total_deletions: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskLevel {
    pub const fn from_score(score: u8) -> Self {
        match score {
            0..30 => RiskLevel::Low,
            30..60 => RiskLevel::Medium,
            60..80 => RiskLevel::High,
            _ => RiskLevel::Critical,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
}

/// One term of the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// Stable identifier (`changeSize`, `fileCount`, `spread`, `sensitivePaths`,
    /// `schemaChanges`, `ciChanges`, `testCoverage`).
    pub name: String,
    pub points: u8,
    pub max_points: u8,
    /// The component in words; the top ones become `reasons`.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskReport {
    pub score: u8,
    pub level: RiskLevel,
    pub reasons: Vec<String>,
    pub components: Vec<Component>,
    pub sensitive_paths_count: u32,
    pub changed_files_count: u32,
    /// The sensitive paths themselves (at most 50), for reviewers.
    pub sensitive_paths: Vec<String>,
    /// Lockfiles and generated files left out of size, count and spread.
    pub excluded_files_count: u32,
}

pub const COMPONENT_CHANGE_SIZE: &str = "changeSize";
pub const COMPONENT_FILE_COUNT: &str = "fileCount";
pub const COMPONENT_SPREAD: &str = "spread";
pub const COMPONENT_SENSITIVE: &str = "sensitivePaths";
pub const COMPONENT_SCHEMA: &str = "schemaChanges";
pub const COMPONENT_CI: &str = "ciChanges";
pub const COMPONENT_TESTS: &str = "testCoverage";

const MAX_REASONS: usize = 3;
const MAX_LISTED_SENSITIVE: usize = 50;

/// Lockfile names, matched on the file name.
const LOCKFILES: &[&str] = &[
    "cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "bun.lock",
    "poetry.lock",
    "pipfile.lock",
    "uv.lock",
    "go.sum",
    "gemfile.lock",
    "composer.lock",
    "mix.lock",
    "flake.lock",
    "podfile.lock",
    "packages.lock.json",
    "gradle.lockfile",
];

/// Directory names whose content is generated or vendored.
const GENERATED_DIRS: &[&str] = &[
    "dist",
    "vendor",
    "node_modules",
    "__generated__",
    "generated",
];

const CODE_EXTENSIONS: &[&str] = &[
    "rs", "go", "py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "java", "kt", "kts", "scala", "rb",
    "php", "cs", "fs", "c", "cc", "cpp", "cxx", "h", "hpp", "swift", "m", "mm", "ex", "exs", "erl",
    "clj", "dart", "vue", "svelte", "lua", "sh", "bash", "zig", "hs", "ml", "sql",
];

const DOC_EXTENSIONS: &[&str] = &["md", "markdown", "rst", "txt", "adoc", "asciidoc"];

const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "__tests__",
    "spec",
    "specs",
    "e2e",
    "testdata",
];

/// Monorepo containers whose children are separate areas for `spread`.
const AREA_CONTAINERS: &[&str] = &[
    "crates", "packages", "apps", "services", "libs", "modules", "plugins",
];

#[derive(Debug, Clone, Copy, Default)]
struct Class {
    sensitive: bool,
    excluded: bool,
    doc: bool,
    test: bool,
    code: bool,
    schema: bool,
    ci: bool,
}

fn normalize(path: &str) -> String {
    let p = path.trim().replace('\\', "/");
    let p = p.trim_start_matches("./").trim_start_matches('/');
    p.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

fn classify(path: &str, sensitive: &SensitivePaths) -> Class {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split('/').collect();
    let file = segments.last().copied().unwrap_or_default();
    let dirs = segments
        .get(..segments.len().saturating_sub(1))
        .unwrap_or_default();
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    let stem = file.split('.').next().unwrap_or_default();

    let is_sensitive = sensitive.is_sensitive(path);
    let lockfile = LOCKFILES.contains(&file);
    let generated = dirs.iter().any(|d| GENERATED_DIRS.contains(d))
        || file.ends_with(".min.js")
        || file.ends_with(".min.css")
        || file.ends_with(".js.map")
        || file.ends_with(".pb.go")
        || file.ends_with("_pb2.py")
        || file.ends_with(".g.dart")
        || stem.ends_with("_generated")
        || file.contains(".generated.");
    let doc = DOC_EXTENSIONS.contains(&ext)
        || dirs.first().is_some_and(|d| *d == "docs" || *d == "doc")
        || stem == "license"
        || stem == "changelog";
    let test = dirs.iter().any(|d| TEST_DIRS.contains(d))
        || file.contains("_test.")
        || file.contains(".test.")
        || file.contains(".spec.")
        || file.contains("_spec.")
        || (file.starts_with("test_") && ext == "py")
        || (matches!(ext, "java" | "kt" | "cs")
            && (stem.ends_with("test") || stem.ends_with("tests")));
    let ci = lower.starts_with(".github/workflows/")
        || lower.starts_with(".github/actions/")
        || lower.starts_with(".circleci/")
        || lower.starts_with(".buildkite/")
        || lower.starts_with(".ci/")
        || matches!(
            file,
            ".gitlab-ci.yml"
                | "jenkinsfile"
                | "azure-pipelines.yml"
                | ".travis.yml"
                | "bitbucket-pipelines.yml"
                | ".drone.yml"
        ) && dirs.is_empty()
        || file == "jenkinsfile";
    let schema = dirs
        .iter()
        .any(|d| matches!(*d, "migrations" | "migration" | "migrate"))
        || ext == "sql"
        || ext == "prisma"
        || file == "schema.rb"
        || file == "structure.sql";
    let code = CODE_EXTENSIONS.contains(&ext) && !test && !doc;
    Class {
        sensitive: is_sensitive,
        excluded: (lockfile || generated) && !is_sensitive,
        doc: doc && !is_sensitive,
        // A sensitive file is never reassurance: `tests/fixtures/secret.pem` is a secret.
        test: test && !is_sensitive,
        code: code || (test && is_sensitive && CODE_EXTENSIONS.contains(&ext)),
        schema,
        ci,
    }
}

fn is_migration_path(path: &str) -> bool {
    path.to_ascii_lowercase()
        .split('/')
        .rev()
        .skip(1)
        .any(|d| matches!(d, "migrations" | "migration" | "migrate"))
}

fn area_of(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        [_only] => "(root)".to_owned(),
        [first, second, _, ..]
            if AREA_CONTAINERS.contains(&first.to_ascii_lowercase().as_str()) =>
        {
            format!("{first}/{second}")
        }
        [first, ..] => (*first).to_owned(),
        [] => "(root)".to_owned(),
    }
}

fn log_scaled(value: f64, full_at: f64, max_points: f64) -> u8 {
    if value <= 0.0 {
        return 0;
    }
    let fraction = ((1.0 + value).log10() / (1.0 + full_at).log10()).min(1.0);
    (max_points * fraction).round() as u8
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn list_some(paths: &[String], max: usize) -> String {
    let shown: Vec<&str> = paths.iter().take(max).map(String::as_str).collect();
    let rest = paths.len().saturating_sub(max);
    if rest > 0 {
        format!("{} and {rest} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Scores a PR. Pure and total: any input gives a report.
pub fn analyze(input: &PrInput, sensitive: &SensitivePaths) -> RiskReport {
    let mut weighted_lines = 0f64;
    let mut counted_lines = 0u64;
    let mut raw_lines = 0u64;
    let mut counted_files = 0u64;
    let mut weighted_files = 0f64;
    let mut excluded_files = 0u64;
    let mut areas = BTreeSet::new();
    let mut sensitive_paths = Vec::new();
    let mut schema_paths = Vec::new();
    let mut migration_rewritten = false;
    let mut ci_paths = Vec::new();
    let mut code_lines = 0u64;
    let mut test_lines = 0u64;
    let mut test_files = 0u64;

    for f in &input.files {
        let path = normalize(&f.path);
        let class = classify(&path, sensitive);
        let lines = f.additions.saturating_add(f.deletions);
        raw_lines = raw_lines.saturating_add(lines);
        if class.sensitive {
            sensitive_paths.push(path.clone());
        }
        if class.excluded {
            excluded_files += 1;
            continue;
        }
        counted_files += 1;
        // Documentation carries little runtime risk: a quarter weight in size and count.
        let weight = if class.doc { 0.25 } else { 1.0 };
        weighted_files += weight;
        counted_lines = counted_lines.saturating_add(lines);
        weighted_lines += lines as f64 * weight;
        areas.insert(area_of(&path));
        if class.schema {
            if is_migration_path(&path)
                && !matches!(f.status, FileStatus::Added | FileStatus::Copied)
            {
                migration_rewritten = true;
            }
            schema_paths.push(path.clone());
        }
        if class.ci {
            ci_paths.push(path.clone());
        }
        if class.test {
            test_lines = test_lines.saturating_add(lines);
            test_files += 1;
        } else if class.code {
            code_lines = code_lines.saturating_add(lines);
        }
    }

    let list_len = input.files.len() as u64;
    let reported_files = u64::from(input.changed_files_count.unwrap_or(0));
    let unlisted_files = reported_files.saturating_sub(list_len);
    let reported_lines = input
        .total_additions
        .unwrap_or(0)
        .saturating_add(input.total_deletions.unwrap_or(0));
    let unlisted_lines = reported_lines.saturating_sub(raw_lines);
    let size_lines = weighted_lines + unlisted_lines as f64;
    let file_total = counted_files + unlisted_files;

    let mut components = Vec::with_capacity(7);

    let size_points = log_scaled(size_lines, 2000.0, 25.0);
    let plain_lines = counted_lines.saturating_add(unlisted_lines);
    let weighted = size_lines.round() as u64;
    let mut size_detail = format!("Changes {plain_lines} lines");
    if weighted != plain_lines {
        size_detail.push_str(&format!(
            " ({weighted} weighted: documentation counts a quarter)"
        ));
    }
    if excluded_files > 0 {
        size_detail.push_str(&format!(
            " (not counting {})",
            plural(
                excluded_files,
                "lockfile or generated file",
                "lockfiles or generated files"
            )
        ));
    }
    components.push(Component {
        name: COMPONENT_CHANGE_SIZE.into(),
        points: size_points,
        max_points: 25,
        detail: size_detail,
    });

    components.push(Component {
        name: COMPONENT_FILE_COUNT.into(),
        points: log_scaled(weighted_files + unlisted_files as f64, 50.0, 10.0),
        max_points: 10,
        detail: format!("Touches {}", plural(file_total, "file", "files")),
    });

    let area_count = areas.len() as u64;
    let spread_points = ((area_count.saturating_sub(1) as f64) * 2.5)
        .round()
        .min(10.0) as u8;
    let area_list: Vec<String> = areas.into_iter().collect();
    components.push(Component {
        name: COMPONENT_SPREAD.into(),
        points: spread_points,
        max_points: 10,
        detail: if area_count == 0 {
            "No file list, so the spread is unknown".to_owned()
        } else {
            format!(
                "Spans {}: {}",
                plural(area_count, "top-level area", "top-level areas"),
                list_some(&area_list, 5)
            )
        },
    });

    let sensitive_count = sensitive_paths.len() as u64;
    let sensitive_points = if sensitive_count == 0 {
        0
    } else {
        (20 + 5 * (sensitive_count - 1)).min(30) as u8
    };
    components.push(Component {
        name: COMPONENT_SENSITIVE.into(),
        points: sensitive_points,
        max_points: 30,
        detail: if sensitive_count == 0 {
            "No sensitive paths touched".to_owned()
        } else {
            format!(
                "Touches {}: {}",
                plural(sensitive_count, "sensitive path", "sensitive paths"),
                list_some(&sensitive_paths, 3)
            )
        },
    });

    let schema_points = match (schema_paths.is_empty(), migration_rewritten) {
        (true, _) => 0,
        (false, false) => 15,
        (false, true) => 20,
    };
    components.push(Component {
        name: COMPONENT_SCHEMA.into(),
        points: schema_points,
        max_points: 20,
        detail: if schema_paths.is_empty() {
            "No schema or migration changes".to_owned()
        } else {
            let mut d = format!(
                "Changes {}: {}",
                plural(
                    schema_paths.len() as u64,
                    "schema/migration file",
                    "schema/migration files"
                ),
                list_some(&schema_paths, 3)
            );
            if migration_rewritten {
                d.push_str("; modifies or deletes an existing migration");
            }
            d
        },
    });

    components.push(Component {
        name: COMPONENT_CI.into(),
        points: if ci_paths.is_empty() { 0 } else { 10 },
        max_points: 10,
        detail: if ci_paths.is_empty() {
            "No CI/workflow changes".to_owned()
        } else {
            format!(
                "Changes CI/workflow configuration: {}",
                list_some(&ci_paths, 3)
            )
        },
    });

    let untested = if code_lines == 0 {
        0.0
    } else {
        1.0 - (2.0 * test_lines as f64 / code_lines as f64).min(1.0)
    };
    let size_factor = if code_lines == 0 {
        0.0
    } else {
        ((1.0 + code_lines as f64).log10() / 501f64.log10()).min(1.0)
    };
    let test_points = (10.0 * size_factor * untested).round() as u8;
    components.push(Component {
        name: COMPONENT_TESTS.into(),
        points: test_points,
        max_points: 10,
        detail: if code_lines == 0 {
            "No code changes needing tests".to_owned()
        } else if test_files == 0 {
            format!("Changes {code_lines} lines of code with no test changes")
        } else if test_points > 0 {
            format!("Changes {code_lines} lines of code with only {test_lines} lines of tests")
        } else {
            format!("Changes {code_lines} lines of code with {test_lines} lines of tests")
        },
    });

    let total: u32 = components.iter().map(|c| u32::from(c.points)).sum();
    let score = total.min(100) as u8;

    let mut ranked: Vec<&Component> = components.iter().filter(|c| c.points > 0).collect();
    // Stable sort: equal points keep the table's order, so reasons are deterministic.
    ranked.sort_by_key(|c| std::cmp::Reverse(c.points));
    let mut reasons: Vec<String> = ranked
        .iter()
        .take(MAX_REASONS)
        .map(|c| c.detail.clone())
        .collect();
    if reasons.is_empty() {
        reasons.push("No risk factors: an empty change outside sensitive areas".to_owned());
    }

    let changed_files_count = u32::try_from(list_len.max(reported_files)).unwrap_or(u32::MAX);
    let sensitive_paths_count = u32::try_from(sensitive_count).unwrap_or(u32::MAX);
    sensitive_paths.truncate(MAX_LISTED_SENSITIVE);

    RiskReport {
        score,
        level: RiskLevel::from_score(score),
        reasons,
        components,
        sensitive_paths_count,
        changed_files_count,
        sensitive_paths,
        excluded_files_count: u32::try_from(excluded_files).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn file(path: &str, additions: u64, deletions: u64) -> FileChange {
        FileChange {
            path: path.into(),
            additions,
            deletions,
            status: FileStatus::Modified,
        }
    }

    fn added(path: &str, additions: u64) -> FileChange {
        FileChange {
            path: path.into(),
            additions,
            deletions: 0,
            status: FileStatus::Added,
        }
    }

    fn pr(files: Vec<FileChange>) -> PrInput {
        PrInput {
            files,
            ..PrInput::default()
        }
    }

    fn points(report: &RiskReport, name: &str) -> u8 {
        report
            .components
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.points)
            .unwrap()
    }

    fn run(files: Vec<FileChange>) -> RiskReport {
        analyze(&pr(files), &SensitivePaths::default())
    }

    #[test]
    fn sensitive_pr_outranks_big_docs_pr() {
        let risky = run(vec![
            file("src/auth/session.rs", 30, 10),
            added(
                "crates/valine-store/migrations/sqlite/0004_sessions.up.sql",
                20,
            ),
            file(".github/workflows/ci.yml", 5, 2),
        ]);
        let docs = run((0..40)
            .map(|i| file(&format!("docs/guide/page-{i}.md"), 100, 20))
            .collect());
        assert!(
            risky.score > docs.score,
            "risky {} vs docs {}",
            risky.score,
            docs.score
        );
        assert!(risky.level >= RiskLevel::High, "{risky:#?}");
        assert_eq!(docs.level, RiskLevel::Low, "{docs:#?}");
        assert_eq!(risky.sensitive_paths_count, 3);
        assert!(
            risky.reasons[0].contains("3 sensitive paths"),
            "{:?}",
            risky.reasons
        );
        assert!(
            risky.reasons[0].contains("src/auth/session.rs"),
            "{:?}",
            risky.reasons
        );
        assert!(
            risky.reasons.iter().any(|r| r.contains("schema/migration")),
            "{:?}",
            risky.reasons
        );
        assert!(
            docs.reasons.iter().any(|r| r.contains("Touches 40 files")),
            "{:?}",
            docs.reasons
        );
        assert!(
            docs.reasons
                .iter()
                .any(|r| r.contains("Changes 4800 lines (1200 weighted")),
            "{:?}",
            docs.reasons
        );
        assert_eq!(docs.sensitive_paths_count, 0);
        assert_eq!(docs.changed_files_count, 40);
    }

    #[test]
    fn levels() {
        let table = [
            (0, RiskLevel::Low),
            (29, RiskLevel::Low),
            (30, RiskLevel::Medium),
            (59, RiskLevel::Medium),
            (60, RiskLevel::High),
            (79, RiskLevel::High),
            (80, RiskLevel::Critical),
            (100, RiskLevel::Critical),
        ];
        for (score, level) in table {
            assert_eq!(RiskLevel::from_score(score), level, "{score}");
        }
    }

    #[test]
    fn change_size_component() {
        // (lines of one plain code file with tests alongside, expected points)
        let table = [
            (0, 0),
            (1, 2),
            (10, 8),
            (100, 15),
            (1000, 23),
            (2000, 25),
            (1_000_000, 25),
        ];
        for (lines, want) in table {
            let r = run(vec![file("src/lib.rs", lines, 0)]);
            assert_eq!(points(&r, COMPONENT_CHANGE_SIZE), want, "{lines} lines");
        }
        // Lockfiles and generated files do not count; docs count a quarter.
        let table: [(&str, u8); 12] = [
            ("Cargo.lock", 0),
            ("web/package-lock.json", 0),
            ("yarn.lock", 0),
            ("pnpm-lock.yaml", 0),
            ("poetry.lock", 0),
            ("go.sum", 0),
            ("static/app.min.js", 0),
            ("dist/bundle.js", 0),
            ("vendor/github.com/x/y.go", 0),
            ("api/v1/service.pb.go", 0),
            ("src/schema_generated.rs", 0),
            ("README.md", 15),
        ];
        for (path, want) in table {
            let r = run(vec![file(path, 300, 100)]);
            assert_eq!(points(&r, COMPONENT_CHANGE_SIZE), want, "{path}");
        }
        let r = run(vec![file("Cargo.lock", 3000, 0), file("src/a.rs", 10, 0)]);
        assert_eq!(r.excluded_files_count, 1);
        assert!(
            r.components[0].detail.contains("not counting 1 lockfile"),
            "{}",
            r.components[0].detail
        );
    }

    #[test]
    fn totals_without_file_list() {
        let input = PrInput {
            files: vec![],
            changed_files_count: Some(12),
            total_additions: Some(900),
            total_deletions: Some(100),
        };
        let r = analyze(&input, &SensitivePaths::default());
        assert_eq!(points(&r, COMPONENT_CHANGE_SIZE), 23);
        assert_eq!(points(&r, COMPONENT_FILE_COUNT), 7);
        assert_eq!(points(&r, COMPONENT_SPREAD), 0);
        assert_eq!(r.changed_files_count, 12);
        assert_eq!(r.score, 30);
        assert_eq!(r.level, RiskLevel::Medium);
    }

    #[test]
    fn file_count_component() {
        for (n, want) in [(1u64, 2u8), (5, 5), (10, 6), (50, 10), (500, 10)] {
            let files = (0..n)
                .map(|i| file(&format!("src/m{i}.cfg"), 1, 0))
                .collect();
            assert_eq!(points(&run(files), COMPONENT_FILE_COUNT), want, "{n} files");
        }
    }

    #[test]
    fn spread_component() {
        let table: [(&[&str], u8); 5] = [
            (&["src/a.rs", "src/b/c.rs"], 0),
            (&["src/a.rs", "README.md"], 3),
            (&["src/a.rs", "docs/x.md", "build.rs"], 5),
            (
                &[
                    "crates/a/src/lib.rs",
                    "crates/b/src/lib.rs",
                    "crates/c/x.rs",
                    "crates/d/y.rs",
                ],
                8,
            ),
            (&["a/1", "b/1", "c/1", "d/1", "e/1", "f/1", "g/1"], 10),
        ];
        for (paths, want) in table {
            let r = run(paths.iter().map(|p| file(p, 1, 0)).collect());
            assert_eq!(points(&r, COMPONENT_SPREAD), want, "{paths:?}");
        }
    }

    #[test]
    fn sensitive_component() {
        let table: [(&[&str], u8); 8] = [
            (&["src/lib.rs"], 0),
            (&["src/auth/mod.rs"], 20),
            (&["config/password_policy.rs", "certs/server.pem"], 25),
            (
                &[
                    "Dockerfile",
                    "deploy/helm/values.yaml",
                    "infra/main.tf",
                    "keys/id.key",
                ],
                30,
            ),
            (
                &[
                    "src/secrets.rs",
                    "a/b/c/secret/x.txt",
                    ".github/workflows/release.yml",
                    "k8s/app/deployment.yml",
                    "prisma/schema.prisma",
                ],
                30,
            ),
            (&["docs/AUTHORS.md"], 20),
            (&["src/Login.tsx"], 0),
            (&["deploy/README.md"], 0),
        ];
        for (paths, want) in table {
            let r = run(paths.iter().map(|p| file(p, 1, 0)).collect());
            assert_eq!(points(&r, COMPONENT_SENSITIVE), want, "{paths:?}");
            assert_eq!(
                r.sensitive_paths_count as usize,
                if want == 0 { 0 } else { paths.len() },
                "{paths:?}"
            );
        }
        let custom = SensitivePaths::from_globs(&["billing/**"]).unwrap();
        let r = analyze(
            &pr(vec![
                file("billing/invoice.rs", 1, 0),
                file("src/auth.rs", 1, 0),
            ]),
            &custom,
        );
        assert_eq!(r.sensitive_paths, vec!["billing/invoice.rs".to_owned()]);
    }

    #[test]
    fn schema_component() {
        let table: [(FileChange, u8); 6] = [
            (file("src/lib.rs", 1, 0), 0),
            (added("migrations/0002_add.sql", 10), 15),
            (file("migrations/0001_init.sql", 1, 1), 20),
            (
                FileChange {
                    status: FileStatus::Removed,
                    ..file("db/migrate/20240101_x.rb", 0, 9)
                },
                20,
            ),
            (file("prisma/schema.prisma", 3, 1), 15),
            (file("queries/report.sql", 3, 1), 15),
        ];
        for (f, want) in table {
            let path = f.path.clone();
            assert_eq!(points(&run(vec![f]), COMPONENT_SCHEMA), want, "{path}");
        }
    }

    #[test]
    fn ci_component() {
        for (path, want) in [
            (".github/workflows/ci.yml", 10u8),
            (".github/actions/setup/action.yml", 10),
            (".gitlab-ci.yml", 10),
            (".circleci/config.yml", 10),
            ("Jenkinsfile", 10),
            (".ci/run", 10),
            ("src/ci.rs", 0),
            (".github/CODEOWNERS", 0),
        ] {
            assert_eq!(
                points(&run(vec![file(path, 1, 0)]), COMPONENT_CI),
                want,
                "{path}"
            );
        }
    }

    #[test]
    fn test_coverage_component() {
        let table: [(Vec<FileChange>, u8); 6] = [
            (vec![file("docs/a.md", 100, 0)], 0),
            (vec![file("src/a.rs", 500, 0)], 10),
            (vec![file("src/a.rs", 10, 0)], 4),
            (
                vec![file("src/a.rs", 500, 0), file("tests/a.rs", 250, 0)],
                0,
            ),
            (
                vec![file("src/a.rs", 500, 0), file("src/a_test.go", 125, 0)],
                5,
            ),
            // A sensitive "test" file is not reassurance.
            (
                vec![file("src/a.rs", 500, 0), file("tests/auth_test.rs", 400, 0)],
                10,
            ),
        ];
        for (files, want) in table {
            let r = run(files.clone());
            assert_eq!(points(&r, COMPONENT_TESTS), want, "{files:?}");
        }
        let r = run(vec![file("src/a.rs", 500, 0)]);
        assert!(r.components[6].detail.contains("no test changes"));
    }

    #[test]
    fn empty_pr() {
        let r = run(vec![]);
        assert_eq!(r.score, 0);
        assert_eq!(r.level, RiskLevel::Low);
        assert_eq!(r.reasons.len(), 1);
    }

    #[test]
    fn report_wire_format() {
        let r = run(vec![file("src/auth.rs", 1, 0)]);
        let v = serde_json::to_value(&r).unwrap();
        for key in [
            "score",
            "level",
            "reasons",
            "components",
            "sensitivePathsCount",
            "changedFilesCount",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
        assert_eq!(v["components"][0]["maxPoints"], 25);
        let input: PrInput = serde_json::from_str(r#"{"files":[{"path":"a","additions":1,"deletions":2,"status":"weird"}],"changedFilesCount":3}"#).unwrap();
        assert_eq!(input.files[0].status, FileStatus::Other);
    }

    #[test]
    fn env_list_parsing() {
        let s = SensitivePaths::from_list("**/auth/**, *.pem\n deploy/**/*.{yml,yaml}").unwrap();
        assert_eq!(
            s.patterns(),
            vec!["**/auth/**", "*.pem", "deploy/**/*.{yml,yaml}"]
        );
        assert!(s.is_sensitive("deploy/x/y.yaml"));
        assert!(SensitivePaths::from_list("a/{b").is_err());
    }

    fn arb_path() -> impl Strategy<Value = String> {
        let seg = prop_oneof![
            Just("src".to_owned()),
            Just("docs".to_owned()),
            Just("tests".to_owned()),
            Just("migrations".to_owned()),
            Just(".github".to_owned()),
            Just("workflows".to_owned()),
            Just("vendor".to_owned()),
            Just("auth".to_owned()),
            Just("crates".to_owned()),
            "[a-z]{1,6}",
        ];
        let name = prop_oneof![
            Just("Cargo.lock".to_owned()),
            Just("a.min.js".to_owned()),
            Just("README.md".to_owned()),
            Just("x_test.go".to_owned()),
            Just("schema.prisma".to_owned()),
            Just("Dockerfile".to_owned()),
            Just("ci.yml".to_owned()),
            Just("secret.key".to_owned()),
            "[a-z]{1,6}\\.(rs|py|md|sql|yml|txt)",
        ];
        (proptest::collection::vec(seg, 0..4), name).prop_map(|(dirs, name)| {
            let mut p = dirs.join("/");
            if !p.is_empty() {
                p.push('/');
            }
            p.push_str(&name);
            p
        })
    }

    fn arb_file() -> impl Strategy<Value = FileChange> {
        (
            arb_path(),
            0u64..5000,
            0u64..5000,
            prop_oneof![
                Just(FileStatus::Added),
                Just(FileStatus::Modified),
                Just(FileStatus::Removed)
            ],
        )
            .prop_map(|(path, additions, deletions, status)| FileChange {
                path,
                additions,
                deletions,
                status,
            })
    }

    proptest! {
        #[test]
        fn adding_a_sensitive_file_never_lowers_the_score(
            files in proptest::collection::vec(arb_file(), 0..30),
            extra in arb_file(),
            changed in proptest::option::of(0u32..100),
            adds in proptest::option::of(0u64..20_000),
            dels in proptest::option::of(0u64..20_000),
        ) {
            let sensitive = SensitivePaths::default();
            prop_assume!(sensitive.is_sensitive(&extra.path));
            let before = PrInput { files: files.clone(), changed_files_count: changed, total_additions: adds, total_deletions: dels };
            let mut after = before.clone();
            after.files.push(extra.clone());
            let (b, a) = (analyze(&before, &sensitive), analyze(&after, &sensitive));
            prop_assert!(a.score >= b.score, "{} -> {} adding {:?}\n{:#?}\n{:#?}", b.score, a.score, extra, b.components, a.components);
            prop_assert!(a.sensitive_paths_count == b.sensitive_paths_count + 1);
        }

        #[test]
        fn score_is_bounded_and_consistent(files in proptest::collection::vec(arb_file(), 0..60)) {
            let r = run(files);
            let sum: u32 = r.components.iter().map(|c| u32::from(c.points)).sum();
            prop_assert_eq!(u32::from(r.score), sum.min(100));
            prop_assert!(r.components.iter().all(|c| c.points <= c.max_points));
            prop_assert_eq!(r.level, RiskLevel::from_score(r.score));
            prop_assert!(!r.reasons.is_empty() && r.reasons.len() <= 3);
        }

        #[test]
        fn arbitrary_paths_never_panic(path in "\\PC{0,80}", a in any::<u64>(), d in any::<u64>()) {
            let _ = run(vec![FileChange { path, additions: a, deletions: d, status: FileStatus::Other }]);
        }
    }
}
