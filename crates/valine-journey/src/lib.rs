//! Synthetic user journeys (SPEC §13, seed phase 7): a real client walks a Valine deployment
//! through `register → verify → login → createProfile → uploadMedia → searchSelf →
//! exportData → logout`, then deletes what it created (`cleanup`), over real HTTP.
//!
//! Used by `valine journey run` (from any machine, e.g. a post-deploy CI job) and by the
//! server's `POST /internal/journey/run`. Nothing here is simulated: every step is one or
//! more HTTP exchanges with the deployment, and its result is what the deployment answered.
//!
//! The client behaves like the web front end: a cookie jar, the `X-CSRF-Token` header copied
//! from the `XSRF-TOKEN` cookie on every state-changing request, no `Origin` header (the
//! server's origin check passes requests that carry none). Redirects are never followed
//! (a 3xx is a failed step), every step has a deadline and every response body a size cap.

mod http;
pub mod png;
pub mod render;
mod steps;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use steps::run;

/// The default domain of synthetic accounts (the server's `JOURNEY_EMAIL_DOMAIN` default).
pub const DEFAULT_EMAIL_DOMAIN: &str = "journey.valine.invalid";
/// Per-step deadline unless configured.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest response body a step reads (the export document is the biggest, a few KiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// One step of the journey, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Register,
    Verify,
    Login,
    CreateProfile,
    UploadMedia,
    SearchSelf,
    ExportData,
    Logout,
    Cleanup,
}

impl Step {
    /// Every step, in run order.
    pub const ALL: [Step; 9] = [
        Step::Register,
        Step::Verify,
        Step::Login,
        Step::CreateProfile,
        Step::UploadMedia,
        Step::SearchSelf,
        Step::ExportData,
        Step::Logout,
        Step::Cleanup,
    ];

    /// The scenario name (SPEC §13).
    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Register => "register",
            Step::Verify => "verify",
            Step::Login => "login",
            Step::CreateProfile => "createProfile",
            Step::UploadMedia => "uploadMedia",
            Step::SearchSelf => "searchSelf",
            Step::ExportData => "exportData",
            Step::Logout => "logout",
            Step::Cleanup => "cleanup",
        }
    }

    /// The request that stands for this step in reports (the step's last or main call).
    pub const fn endpoint(self) -> (&'static str, &'static str) {
        match self {
            Step::Register => ("POST", "/auth/register"),
            Step::Verify => ("POST", "/auth/verify-email"),
            Step::Login => ("POST", "/auth/login"),
            Step::CreateProfile => ("POST", "/profiles"),
            Step::UploadMedia => ("POST", "/profiles/{id}/media/complete"),
            Step::SearchSelf => ("GET", "/search"),
            Step::ExportData => ("POST", "/account/export"),
            Step::Logout => ("POST", "/auth/logout"),
            Step::Cleanup => ("DELETE", "/account"),
        }
    }

    /// Steps that must have run (and passed) for this one to make sense. A profile needs a
    /// verified email (content writes are refused before), media and search need the
    /// profile; everything needs the account. Registration already logs in.
    const fn requires(self) -> &'static [Step] {
        match self {
            Step::Register | Step::Cleanup => &[],
            Step::Verify | Step::Login | Step::ExportData | Step::Logout => &[Step::Register],
            Step::CreateProfile => &[Step::Register, Step::Verify],
            Step::UploadMedia | Step::SearchSelf => {
                &[Step::Register, Step::Verify, Step::CreateProfile]
            }
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Step {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Step::ALL
            .into_iter()
            .find(|step| step.as_str() == s.trim())
            .ok_or_else(|| UnknownScenario(s.to_string()))
    }
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A scenario name that is not a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScenario(pub String);

impl fmt::Display for UnknownScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = Step::ALL.iter().map(|s| s.as_str()).collect();
        write!(
            f,
            "unknown scenario {:?}; expected one of {}",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownScenario {}

/// The steps to run for a scenario selection: the named steps plus the steps they need,
/// in journey order, and always `cleanup` last. `None` or an empty selection is the whole
/// journey. An unknown name is an error.
pub fn plan<S: AsRef<str>>(scenarios: Option<&[S]>) -> Result<Vec<Step>, UnknownScenario> {
    let selected: Vec<Step> = match scenarios {
        None => Step::ALL.to_vec(),
        Some([]) => Step::ALL.to_vec(),
        Some(names) => names
            .iter()
            .map(|n| n.as_ref().parse())
            .collect::<Result<_, _>>()?,
    };
    let mut wanted = std::collections::BTreeSet::new();
    for step in selected {
        wanted.insert(step);
        wanted.extend(step.requires().iter().copied());
    }
    wanted.insert(Step::Cleanup);
    // BTreeSet orders by declaration order = run order, cleanup last.
    Ok(wanted.into_iter().collect())
}

/// What to run against which deployment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The deployment's API base URL, e.g. `https://api.valine.example.com`.
    pub base_url: String,
    /// An API key with scope `journey` (or `all`), for the verification-token endpoint.
    /// Without it the `verify` step fails (nothing else can verify a synthetic account).
    pub api_key: Option<String>,
    /// Synthetic accounts are created under this domain only.
    pub email_domain: String,
    pub step_timeout: Duration,
    pub max_response_bytes: usize,
    /// The steps to run, from [`plan`]. Must end with `cleanup`.
    pub steps: Vec<Step>,
}

impl Config {
    /// The whole journey against `base_url` with the defaults.
    pub fn new(base_url: impl Into<String>) -> Config {
        Config {
            base_url: base_url.into(),
            api_key: None,
            email_domain: DEFAULT_EMAIL_DOMAIN.to_string(),
            step_timeout: DEFAULT_STEP_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            steps: Step::ALL.to_vec(),
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Passed,
    Failed,
    Skipped,
}

impl StepStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
        }
    }
}

/// Passed or failed, for the whole journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JourneyStatus {
    Passed,
    Failed,
}

impl JourneyStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            JourneyStatus::Passed => "passed",
            JourneyStatus::Failed => "failed",
        }
    }
}

/// The request a step made last (the one that failed, for a failed step). Paths carry no
/// query string, so signed URLs never end up in reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRecord {
    pub method: String,
    pub path: String,
    /// `null` when no response arrived (timeout, connection refused) or the step was skipped.
    pub status: Option<u16>,
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    pub step: Step,
    pub status: StepStatus,
    /// Milliseconds.
    pub duration: u64,
    pub http: HttpRecord,
    /// What went wrong, in words (failed steps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the journey expected (failed steps only), e.g. `HTTP 201`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What it received instead, e.g. `HTTP 500 INTERNAL: … (requestId …)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// passed ÷ total as a whole percent (rounded).
    pub success_rate: u32,
}

impl Summary {
    pub fn of(steps: &[StepResult]) -> Summary {
        let count = |s: StepStatus| steps.iter().filter(|r| r.status == s).count();
        let total = steps.len();
        let passed = count(StepStatus::Passed);
        let success_rate = (passed * 100 + total / 2)
            .checked_div(total)
            .map_or(0, |r| u32::try_from(r).unwrap_or(100));
        Summary {
            total,
            passed,
            failed: count(StepStatus::Failed),
            skipped: count(StepStatus::Skipped),
            success_rate,
        }
    }
}

/// The synthetic account the journey used (no password: it is never reported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journey {
    pub status: JourneyStatus,
    /// Milliseconds, cleanup included.
    pub total_duration: u64,
    pub steps: Vec<StepResult>,
    pub summary: Summary,
    pub account: Account,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// When the journey started (RFC 3339, UTC, milliseconds).
    pub timestamp: String,
    pub api_base_url: String,
    /// Always `false`: every step is real HTTP against `apiBaseUrl`.
    pub simulated: bool,
}

/// The SPEC §13 document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub journey: Journey,
    pub metadata: Metadata,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.journey.status == JourneyStatus::Passed
    }
}

/// Progress as it happens, for terminals and logs.
#[derive(Debug)]
pub enum Progress<'a> {
    Started {
        step: Step,
        index: usize,
        total: usize,
    },
    Finished {
        result: &'a StepResult,
        index: usize,
        total: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_adds_prerequisites_and_cleanup_in_order() {
        assert_eq!(plan::<&str>(None).unwrap(), Step::ALL.to_vec());
        assert_eq!(plan::<&str>(Some(&[])).unwrap(), Step::ALL.to_vec());
        assert_eq!(
            plan(Some(&["searchSelf"])).unwrap(),
            vec![
                Step::Register,
                Step::Verify,
                Step::CreateProfile,
                Step::SearchSelf,
                Step::Cleanup
            ]
        );
        assert_eq!(
            plan(Some(&["cleanup", "login"])).unwrap(),
            vec![Step::Register, Step::Login, Step::Cleanup]
        );
        let err = plan(Some(&["login", "teleport"])).unwrap_err();
        assert_eq!(err.0, "teleport");
        assert!(err.to_string().contains("uploadMedia"));
    }

    #[test]
    fn success_rate_is_a_rounded_whole_percent() {
        let step = |status| StepResult {
            step: Step::Login,
            status,
            duration: 1,
            http: HttpRecord {
                method: "POST".into(),
                path: "/auth/login".into(),
                status: None,
            },
            error: None,
            expected: None,
            received: None,
        };
        let mut steps = vec![step(StepStatus::Passed); 4];
        steps.push(step(StepStatus::Failed));
        steps.extend(vec![step(StepStatus::Skipped); 4]);
        let s = Summary::of(&steps);
        assert_eq!((s.total, s.passed, s.failed, s.skipped), (9, 4, 1, 4));
        assert_eq!(s.success_rate, 44);
        assert_eq!(
            Summary::of(&vec![step(StepStatus::Passed); 9]).success_rate,
            100
        );
        assert_eq!(Summary::of(&[]).success_rate, 0);
    }

    #[test]
    fn step_names_round_trip() {
        for step in Step::ALL {
            assert_eq!(step.as_str().parse::<Step>().unwrap(), step);
            let json = serde_json::to_string(&step).unwrap();
            assert_eq!(serde_json::from_str::<Step>(&json).unwrap(), step);
        }
    }
}
