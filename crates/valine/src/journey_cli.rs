//! `valine journey run`: the synthetic journey (SPEC §13) against any deployment, for a
//! post-deploy gate. Needs no local configuration; progress goes to stderr, the report
//! (text, JSON or JUnit) to `--out` or stdout — on failure too. Exit 0 passed, 1 failed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Subcommand, ValueEnum};
use valine_journey::{Config, Progress};

#[derive(Subcommand)]
pub enum JourneyAction {
    /// Run register → verify → login → createProfile → uploadMedia → searchSelf →
    /// exportData → logout, then delete the synthetic account. Exit 0 passed, 1 failed.
    Run {
        /// The deployment's API base URL.
        #[arg(long, env = "VALINE_URL")]
        base_url: String,
        /// API key with scope `journey`, for the verify step.
        #[arg(long, env = "VALINE_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the report here instead of stdout (also when the journey fails).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Steps to run (comma separated or repeated); what they need is added, cleanup
        /// always runs last. Default: every step.
        #[arg(long = "scenario", value_delimiter = ',')]
        scenarios: Vec<String>,
        /// Domain of the synthetic accounts (the server's JOURNEY_EMAIL_DOMAIN).
        #[arg(long, env = "JOURNEY_EMAIL_DOMAIN", default_value = valine_journey::DEFAULT_EMAIL_DOMAIN)]
        email_domain: String,
        /// Deadline of each step, in seconds.
        #[arg(long, default_value_t = 15)]
        step_timeout_seconds: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
}

pub async fn run(action: JourneyAction) -> anyhow::Result<ExitCode> {
    let JourneyAction::Run {
        base_url,
        api_key,
        format,
        out,
        scenarios,
        email_domain,
        step_timeout_seconds,
    } = action;
    let steps = valine_journey::plan(Some(&scenarios))?;
    let config = Config {
        base_url,
        api_key: api_key.filter(|k| !k.trim().is_empty()),
        email_domain,
        step_timeout: Duration::from_secs(step_timeout_seconds.max(1)),
        max_response_bytes: valine_journey::DEFAULT_MAX_RESPONSE_BYTES,
        steps,
    };
    eprintln!("Synthetic journey against {}", config.base_url);
    let mut progress = |event: Progress<'_>| {
        if let Progress::Finished { .. } = event {
            eprintln!("{}", valine_journey::render::progress_line(&event));
        }
    };
    let report = valine_journey::run(&config, &mut progress).await;
    let rendered = match format {
        Format::Text => valine_journey::render::text(&report),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        Format::Junit => valine_journey::render::junit(&report),
    };
    match &out {
        Some(path) => std::fs::write(path, &rendered)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => print!("{rendered}"),
    }
    let s = &report.journey.summary;
    eprintln!(
        "journey {}: {}/{} steps passed ({}%), {} ms",
        report.journey.status.as_str(),
        s.passed,
        s.total,
        s.success_rate,
        report.journey.total_duration
    );
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
