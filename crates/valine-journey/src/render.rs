//! Renderings of a [`Report`]: JUnit XML for CI (one testcase per step) and plain text for
//! terminals (one progress line per step, then a summary).

use std::fmt::Write as _;

use crate::{Progress, Report, StepResult, StepStatus};

/// JUnit XML: one `<testsuite name="journey">`, one `<testcase>` per step (class
/// `journey`, name the step), a failed step as `<failure>` with expected/received, a
/// skipped step as `<skipped/>`. `time` is in seconds.
pub fn junit(report: &Report) -> String {
    let j = &report.journey;
    let secs = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!(
        "tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\"",
        j.summary.total,
        j.summary.failed,
        j.summary.skipped,
        secs(j.total_duration)
    );
    let _ = writeln!(out, "<testsuites name=\"valine-journey\" {counts}>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"journey\" {counts} timestamp=\"{}\" hostname=\"{}\">",
        escape(&report.metadata.timestamp),
        escape(&report.metadata.api_base_url)
    );
    let _ = writeln!(out, "    <properties>");
    for (name, value) in [
        ("apiBaseUrl", report.metadata.api_base_url.as_str()),
        ("account.email", j.account.email.as_str()),
        ("account.username", j.account.username.as_str()),
        (
            "simulated",
            if report.metadata.simulated {
                "true"
            } else {
                "false"
            },
        ),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            escape(value)
        );
    }
    let _ = writeln!(out, "    </properties>");
    for step in &j.steps {
        let open = format!(
            "    <testcase classname=\"journey\" name=\"{}\" time=\"{}\"",
            step.step,
            secs(step.duration)
        );
        match step.status {
            StepStatus::Passed => {
                let _ = writeln!(out, "{open}/>");
            }
            StepStatus::Skipped => {
                let _ = writeln!(out, "{open}>\n      <skipped/>\n    </testcase>");
            }
            StepStatus::Failed => {
                let message = step.error.as_deref().unwrap_or("failed");
                let _ = writeln!(
                    out,
                    "{open}>\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    escape(message),
                    escape(&http_line(step)),
                    escape(&failure_detail(step))
                );
            }
        }
    }
    let _ = writeln!(out, "  </testsuite>");
    let _ = writeln!(out, "</testsuites>");
    out
}

/// The final text report: every step's line, then the summary.
pub fn text(report: &Report) -> String {
    let j = &report.journey;
    let total = j.steps.len();
    let mut out = format!(
        "Synthetic journey against {} (account {})\n",
        report.metadata.api_base_url, j.account.email
    );
    for (index, step) in j.steps.iter().enumerate() {
        out.push_str(&step_line(step, index, total));
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{}: {} of {} steps passed, {} failed, {} skipped ({}%) in {} ms",
        j.status.as_str().to_uppercase(),
        j.summary.passed,
        j.summary.total,
        j.summary.failed,
        j.summary.skipped,
        j.summary.success_rate,
        j.total_duration
    );
    out
}

/// A progress line for a terminal: `[3/9] login ... ` when a step starts, the outcome when
/// it ends. Returns `None` for a start event (print nothing but a marker if desired).
pub fn progress_line(event: &Progress<'_>) -> String {
    match event {
        Progress::Started { step, index, total } => {
            format!("[{}/{}] {step} ...", index + 1, total)
        }
        Progress::Finished {
            result,
            index,
            total,
        } => step_line(result, *index, *total),
    }
}

fn step_line(step: &StepResult, index: usize, total: usize) -> String {
    let mut line = format!(
        "[{}/{}] {:<13} {:<7}",
        index + 1,
        total,
        step.step.as_str(),
        step.status.as_str()
    );
    if step.status != StepStatus::Skipped {
        let _ = write!(line, " {:>6} ms  {}", step.duration, http_line(step));
    }
    if let Some(error) = &step.error {
        let _ = write!(line, "\n        {error}");
        if let (Some(e), Some(r)) = (&step.expected, &step.received) {
            let _ = write!(line, "\n        expected: {e}\n        received: {r}");
        }
    }
    line
}

fn http_line(step: &StepResult) -> String {
    let status = step
        .http
        .status
        .map_or_else(|| "no response".to_string(), |s| s.to_string());
    format!("{} {} -> {status}", step.http.method, step.http.path)
}

fn failure_detail(step: &StepResult) -> String {
    let mut out = step.error.clone().unwrap_or_default();
    if let Some(e) = &step.expected {
        let _ = write!(out, "\nexpected: {e}");
    }
    if let Some(r) = &step.received {
        let _ = write!(out, "\nreceived: {r}");
    }
    let _ = write!(out, "\nrequest: {}", http_line(step));
    out
}

/// XML text/attribute escaping; control characters XML 1.0 forbids become spaces.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    fn report() -> Report {
        let step = |step: Step, status, error: Option<&str>| StepResult {
            step,
            status,
            duration: 12,
            http: HttpRecord {
                method: "POST".into(),
                path: "/x".into(),
                status: Some(500),
            },
            error: error.map(str::to_string),
            expected: error.map(|_| "HTTP 201".to_string()),
            received: error.map(|_| "HTTP 500 INTERNAL: <oops> & \"more\"".to_string()),
        };
        let steps = vec![
            step(Step::Register, StepStatus::Passed, None),
            step(
                Step::UploadMedia,
                StepStatus::Failed,
                Some("upload <failed>"),
            ),
            step(Step::SearchSelf, StepStatus::Skipped, None),
            step(Step::Cleanup, StepStatus::Passed, None),
        ];
        Report {
            journey: Journey {
                status: JourneyStatus::Failed,
                total_duration: 48,
                summary: Summary::of(&steps),
                steps,
                account: Account {
                    email: "journey-x@journey.valine.invalid".into(),
                    username: "journey_x".into(),
                },
            },
            metadata: Metadata {
                timestamp: "2026-01-01T00:00:00.000Z".into(),
                api_base_url: "http://127.0.0.1:3000".into(),
                simulated: false,
            },
        }
    }

    #[test]
    fn junit_escapes_and_marks_failures_and_skips() {
        let xml = junit(&report());
        assert!(xml.contains("<testcase classname=\"journey\" name=\"register\" time=\"0.012\"/>"));
        assert!(xml.contains("<failure message=\"upload &lt;failed&gt;\""));
        assert!(xml.contains("&lt;oops&gt; &amp; &quot;more&quot;"));
        assert!(xml.contains("name=\"searchSelf\" time=\"0.012\">\n      <skipped/>"));
        assert!(xml.contains("tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\""));
        assert!(!xml.contains("<oops>"));
    }

    #[test]
    fn text_has_one_line_per_step_and_the_summary() {
        let t = text(&report());
        assert!(t.contains("[2/4] uploadMedia   failed"));
        assert!(t.contains("expected: HTTP 201"));
        assert!(t.contains("[3/4] searchSelf    skipped"));
        assert!(t.contains("FAILED: 2 of 4 steps passed, 1 failed, 1 skipped (50%)"));
    }
}
