//! The steps themselves and the loop that runs them: stop at the first failure (the rest
//! are `skipped`), but always attempt `cleanup` when an account may exist.

use std::time::Instant;

use rand::Rng;
use rand::distr::Alphanumeric;
use reqwest::Method;
use serde_json::{Value, json};

use crate::http::{Answer, Failure, Http, header_map};
use crate::{
    Account, Config, HttpRecord, Journey, JourneyStatus, Metadata, Progress, Report, Step,
    StepResult, StepStatus, Summary,
};

/// The synthetic identity of one run, all random.
struct Identity {
    email: String,
    username: String,
    password: String,
    display_name: String,
    vanity_url: String,
    /// A word that exists nowhere else, put in the profile bio for `searchSelf`.
    search_word: String,
}

impl Identity {
    fn new(domain: &str) -> Identity {
        let mut rng = rand::rng();
        let mut lower = |n: usize| -> String {
            (0..n)
                .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
                .collect()
        };
        let tag = lower(12);
        // Letters only: one token for every full-text tokenizer, with no digits to split on.
        let search_word = format!("vjq{}", lower(16));
        let password: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        Identity {
            email: format!("journey-{tag}@{domain}"),
            username: format!("journey_{tag}"),
            // Never a common password: 190 random bits, plus a symbol class.
            password: format!("{password}-J1"),
            display_name: format!("Journey {tag}"),
            vanity_url: format!("journey-{tag}"),
            search_word,
        }
    }
}

/// What the steps learned so far.
#[derive(Default)]
struct State {
    /// Registration answered 201.
    account_created: bool,
    /// Registration got no answer: the account may exist; cleanup finds out.
    account_uncertain: bool,
    logged_in: bool,
    user_id: Option<String>,
    profile_id: Option<String>,
}

struct Runner<'a> {
    config: &'a Config,
    http: Http,
    id: Identity,
    state: State,
}

/// Runs the configured steps against `config.base_url`, reporting progress as it goes.
/// Never panics and never returns early: every outcome, a bad base URL included, is a report.
pub async fn run(config: &Config, progress: &mut (dyn FnMut(Progress<'_>) + Send)) -> Report {
    let started = Instant::now();
    let timestamp = now_rfc3339();
    let id = Identity::new(&config.email_domain);
    let account = Account {
        email: id.email.clone(),
        username: id.username.clone(),
    };
    let mut steps = config.steps.clone();
    // Cleanup always runs, last, exactly once.
    steps.retain(|s| *s != Step::Cleanup);
    steps.push(Step::Cleanup);
    let total = steps.len();
    let mut results = Vec::with_capacity(total);

    match Http::new(&config.base_url, config.max_response_bytes) {
        Err(message) => {
            // Nothing can run: the first step fails with the reason, the rest are skipped.
            for (index, step) in steps.iter().copied().enumerate() {
                let result = if index == 0 {
                    failed(step, 0, record_of(step), Failure::new(message.clone()))
                } else {
                    skipped(step)
                };
                progress(Progress::Finished {
                    result: &result,
                    index,
                    total,
                });
                results.push(result);
            }
        }
        Ok(http) => {
            let mut runner = Runner {
                config,
                http,
                id,
                state: State::default(),
            };
            let mut failed_already = false;
            for (index, step) in steps.iter().copied().enumerate() {
                let result = if step == Step::Cleanup {
                    progress(Progress::Started { step, index, total });
                    runner.cleanup_step().await
                } else if failed_already {
                    skipped(step)
                } else {
                    progress(Progress::Started { step, index, total });
                    runner.timed(step).await
                };
                failed_already |= result.status == StepStatus::Failed;
                progress(Progress::Finished {
                    result: &result,
                    index,
                    total,
                });
                results.push(result);
            }
        }
    }

    let summary = Summary::of(&results);
    let status = if summary.failed == 0 {
        JourneyStatus::Passed
    } else {
        JourneyStatus::Failed
    };
    Report {
        journey: Journey {
            status,
            total_duration: millis(started),
            steps: results,
            summary,
            account,
        },
        metadata: Metadata {
            timestamp,
            api_base_url: config.base_url.clone(),
            simulated: false,
        },
    }
}

impl Runner<'_> {
    /// Runs one step under the per-step deadline.
    async fn timed(&mut self, step: Step) -> StepResult {
        let started = Instant::now();
        let mut record = record_of(step);
        let timeout = self.config.step_timeout;
        let outcome = tokio::time::timeout(timeout, self.step(step, &mut record)).await;
        let duration = millis(started);
        match outcome {
            Ok(Ok(())) => StepResult {
                step,
                status: StepStatus::Passed,
                duration,
                http: record,
                error: None,
                expected: None,
                received: None,
            },
            Ok(Err(failure)) => failed(step, duration, record, failure),
            Err(_) => {
                if step == Step::Register {
                    // The request may have reached the server.
                    self.state.account_uncertain = true;
                }
                let what = format!("{} {}", record.method, record.path);
                failed(
                    step,
                    duration,
                    record,
                    Failure::mismatch(
                        format!(
                            "{step} did not finish within {} ms (last request {what})",
                            timeout.as_millis()
                        ),
                        format!("done within {} ms", timeout.as_millis()),
                        "no complete answer in time",
                    ),
                )
            }
        }
    }

    async fn step(&mut self, step: Step, record: &mut HttpRecord) -> Result<(), Failure> {
        match step {
            Step::Register => self.register(record).await,
            Step::Verify => self.verify(record).await,
            Step::Login => self.login(record).await,
            Step::CreateProfile => self.create_profile(record).await,
            Step::UploadMedia => self.upload_media(record).await,
            Step::SearchSelf => self.search_self(record).await,
            Step::ExportData => self.export_data(record).await,
            Step::Logout => self.logout(record).await,
            Step::Cleanup => self.cleanup(record).await,
        }
    }

    /// Cleanup is skipped only when no account can exist; otherwise it always runs.
    async fn cleanup_step(&mut self) -> StepResult {
        if !self.state.account_created && !self.state.account_uncertain {
            return skipped(Step::Cleanup);
        }
        self.timed(Step::Cleanup).await
    }

    async fn register(&mut self, record: &mut HttpRecord) -> Result<(), Failure> {
        let body = json!({
            "email": self.id.email,
            "password": self.id.password,
            "username": self.id.username,
            "displayName": self.id.display_name,
        });
        let answer = match self
            .http
            .api(record, Method::POST, "/auth/register", Some(&body))
            .await
        {
            Ok(a) => a,
            Err(f) => {
                self.state.account_uncertain = true;
                return Err(f);
            }
        };
        let doc = expect_json(record, &answer, 201)?;
        self.state.account_created = true;
        self.state.logged_in = true;
        self.state.user_id = doc
            .pointer("/user/id")
            .and_then(Value::as_str)
            .map(str::to_string);
        if self.state.user_id.is_none() {
            return Err(Failure::mismatch(
                "POST /auth/register: the response has no user.id",
                "{user: {id, …}, …}",
                truncate(&doc.to_string()),
            ));
        }
        Ok(())
    }

    async fn verify(&mut self, record: &mut HttpRecord) -> Result<(), Failure> {
        let Some(key) = self.config.api_key.as_deref() else {
            return Err(Failure::mismatch(
                "verify needs an API key with scope `journey` to fetch the synthetic \
                 account's verification token (--api-key or VALINE_API_KEY)",
                "an API key",
                "none configured",
            ));
        };
        let path = "/internal/journey/verification-token";
        let answer = self
            .http
            .with_key(record, path, key, &json!({"email": self.id.email}))
            .await?;
        let doc = expect_json(record, &answer, 200)?;
        let Some(token) = doc.get("token").and_then(Value::as_str) else {
            return Err(Failure::mismatch(
                format!("POST {path}: the response has no token"),
                "{token}",
                truncate(&doc.to_string()),
            ));
        };
        let answer = self
            .http
            .api(
                record,
                Method::POST,
                "/auth/verify-email",
                Some(&json!({"token": token})),
            )
            .await?;
        let doc = expect_json(record, &answer, 200)?;
        if doc.get("verified") != Some(&Value::Bool(true)) {
            return Err(Failure::mismatch(
                "POST /auth/verify-email did not verify the new account",
                "{verified: true}",
                truncate(&doc.to_string()),
            ));
        }
        Ok(())
    }

    async fn login(&mut self, record: &mut HttpRecord) -> Result<(), Failure> {
        let body = json!({"email": self.id.email, "password": self.id.password});
        let answer = self
            .http
            .api(record, Method::POST, "/auth/login", Some(&body))
            .await?;
        let doc = expect_json(record, &answer, 200)?;
        if doc.get("requiresTwoFactor") == Some(&Value::Bool(true)) {
            return Err(Failure::mismatch(
                "POST /auth/login asked for a second factor the new account does not have",
                "requiresTwoFactor: false",
                "requiresTwoFactor: true",
            ));
        }
        self.state.logged_in = true;
        Ok(())
    }

    async fn create_profile(&mut self, record: &mut HttpRecord) -> Result<(), Failure> {
        let body = json!({
            "vanityUrl": self.id.vanity_url,
            "headline": "Synthetic journey",
            "bio": format!("Synthetic journey account {}; deleted when the journey ends.",
                           self.id.search_word),
            "tags": ["synthetic"],
        });
        let answer = self
            .http
            .api(record, Method::POST, "/profiles", Some(&body))
            .await?;
        let doc = expect_json(record, &answer, 201)?;
        let id = doc.get("id").and_then(Value::as_str).ok_or_else(|| {
            Failure::mismatch(
                "POST /profiles: the response has no id",
                "a profile {id, …}",
                truncate(&doc.to_string()),
            )
        })?;
        self.state.profile_id = Some(id.to_string());
        Ok(())
    }

    async fn upload_media(&mut self, record: &mut HttpRecord) -> Result<(), Failure> {
        let profile = self.profile_id()?;
        let bytes = crate::png::png(16, 16);
        let path = format!("/profiles/{profile}/media/upload-url");
        let body = json!({
            "type": "image",
            "contentType": "image/png",
            "fileSize": bytes.len(),
            "title": "Synthetic journey upload",
            "privacy": "private",
        });
        let answer = self
            .http
            .api(record, Method::POST, &path, Some(&body))
            .await?;
        let ticket = expect_json(record, &answer, 201)?;
        let (Some(media_id), Some(url)) = (
            ticket.get("mediaId").and_then(Value::as_str),
            ticket.get("uploadUrl").and_then(Value::as_str),
        ) else {
            return Err(Failure::mismatch(
                format!("POST {path}: the upload ticket is incomplete"),
                "{mediaId, uploadUrl, method, headers}",
                truncate(&ticket.to_string()),
            ));
        };
        let method = ticket
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("PUT");
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| Failure::new(format!("the upload ticket names method {method:?}")))?;
        let headers = header_map(ticket.get("headers"))?;
        let answer = self
            .http
            .signed(record, method.clone(), url, &headers, bytes)
            .await?;
        if !(200..300).contains(&answer.status) {
            let mut f = status_failure(record, "a 2xx status", &answer);
            f.message = format!("the media store did not accept the upload: {}", f.message);
            return Err(f);
        }
        let path = format!("/profiles/{profile}/media/complete");
        let answer = self
            .http
            .api(
                record,
                Method::POST,
                &path,
                Some(&json!({"mediaId": media_id})),
            )
            .await?;
        let doc = expect_json(record, &answer, 200)?;
        let state = doc
            .pointer("/media/processedStatus")
            .and_then(Value::as_str);
        if state != Some("complete") {
            return Err(Failure::mismatch(
                format!("POST {path}: the upload was not processed"),
                "media.processedStatus = complete",
                truncate(&doc.to_string()),
            ));
        }
        Ok(())
    }

    async fn search_self(&mut self, record: &mut HttpRecord) -> Result<(), Failure> {
        let profile = self.profile_id()?;
        let path = format!("/search?query={}", self.id.search_word);
        let answer = self.http.api(record, Method::GET, &path, None).await?;
        let doc = expect_json(record, &answer, 200)?;
        let items = doc
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if items
            .iter()
            .any(|i| i.get("id").and_then(Value::as_str) == Some(profile.as_str()))
        {
            return Ok(());
        }
        Err(Failure::mismatch(
            format!(
                "GET /search for the profile's unique bio word {:?} did not find the profile",
                self.id.search_word
            ),
            format!("profile {profile} among the results"),
            format!("{} result(s) without it", items.len()),
        ))
    }

    async fn export_data(&mut self, record: &mut HttpRecord) -> Result<(), Failure> {
        let answer = self
            .http
            .api(record, Method::POST, "/account/export", None)
            .await?;
        let doc = expect_json(record, &answer, 200)?;
        let email = doc.pointer("/user/email").and_then(Value::as_str);
        let username = doc.pointer("/user/username").and_then(Value::as_str);
        let names_user = email.is_some_and(|e| e.eq_ignore_ascii_case(&self.id.email))
            && username.is_some_and(|u| u.eq_ignore_ascii_case(&self.id.username));
        if !names_user {
            return Err(Failure::mismatch(
                "POST /account/export: the document does not name the synthetic user",
                format!(
                    "user.email {} and user.username {}",
                    self.id.email, self.id.username
                ),
                format!(
                    "user.email {} and user.username {}",
                    email.unwrap_or("(none)"),
                    username.unwrap_or("(none)")
                ),
            ));
        }
        if let Some(profile) = &self.state.profile_id {
            let exported = doc.pointer("/profile/id").and_then(Value::as_str);
            if exported != Some(profile.as_str()) {
                return Err(Failure::mismatch(
                    "POST /account/export: the document lacks the user's profile",
                    format!("profile.id {profile}"),
                    format!("profile.id {}", exported.unwrap_or("(none)")),
                ));
            }
        }
        Ok(())
    }

    async fn logout(&mut self, record: &mut HttpRecord) -> Result<(), Failure> {
        let answer = self
            .http
            .api(record, Method::POST, "/auth/logout", None)
            .await?;
        expect_status(record, &answer, 200)?;
        self.state.logged_in = false;
        Ok(())
    }

    /// Deletes the account (logging in again when the journey logged out or failed before
    /// a session existed), then proves it is gone: its credentials no longer log in.
    async fn cleanup(&mut self, record: &mut HttpRecord) -> Result<(), Failure> {
        let credentials = json!({"email": self.id.email, "password": self.id.password});
        if !self.state.logged_in {
            let answer = self
                .http
                .api(record, Method::POST, "/auth/login", Some(&credentials))
                .await?;
            if self.state.account_uncertain && !self.state.account_created && answer.status == 401 {
                // Registration never landed: there is nothing to delete.
                return Ok(());
            }
            expect_json(record, &answer, 200)?;
            self.state.logged_in = true;
        }
        let answer = self
            .http
            .api(
                record,
                Method::DELETE,
                "/account",
                Some(&json!({"confirmPassword": self.id.password})),
            )
            .await?;
        expect_status(record, &answer, 200)?;
        self.state.logged_in = false;
        let mut check = record.clone();
        let answer = self
            .http
            .api(&mut check, Method::POST, "/auth/login", Some(&credentials))
            .await?;
        if answer.status != 401 {
            *record = check;
            return Err(Failure::mismatch(
                "DELETE /account answered 200 but the account still logs in",
                "HTTP 401 from POST /auth/login",
                answer.describe(),
            ));
        }
        Ok(())
    }

    fn profile_id(&self) -> Result<String, Failure> {
        self.state
            .profile_id
            .clone()
            .ok_or_else(|| Failure::new("no profile: createProfile did not run or failed"))
    }
}

fn expect_status(record: &HttpRecord, answer: &Answer, status: u16) -> Result<(), Failure> {
    if answer.status == status {
        Ok(())
    } else {
        Err(status_failure(record, &format!("HTTP {status}"), answer))
    }
}

fn expect_json(record: &HttpRecord, answer: &Answer, status: u16) -> Result<Value, Failure> {
    expect_status(record, answer, status)?;
    answer.json().ok_or_else(|| {
        Failure::mismatch(
            format!("{} {}: the body is not JSON", record.method, record.path),
            "a JSON body",
            truncate(&String::from_utf8_lossy(&answer.body)),
        )
    })
}

fn status_failure(record: &HttpRecord, expected: &str, answer: &Answer) -> Failure {
    let received = answer.describe();
    Failure::mismatch(
        format!(
            "{} {}: expected {expected}, received {received}",
            record.method, record.path
        ),
        expected,
        received,
    )
}

fn failed(step: Step, duration: u64, http: HttpRecord, f: Failure) -> StepResult {
    StepResult {
        step,
        status: StepStatus::Failed,
        duration,
        http,
        error: Some(f.message),
        expected: f.expected,
        received: f.received,
    }
}

fn skipped(step: Step) -> StepResult {
    StepResult {
        step,
        status: StepStatus::Skipped,
        duration: 0,
        http: record_of(step),
        error: None,
        expected: None,
        received: None,
    }
}

fn record_of(step: Step) -> HttpRecord {
    let (method, path) = step.endpoint();
    HttpRecord {
        method: method.to_string(),
        path: path.to_string(),
        status: None,
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= 300 {
        s.to_string()
    } else {
        let head: String = s.chars().take(300).collect();
        format!("{head}…")
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn now_rfc3339() -> String {
    use time::format_description::well_known::Rfc3339;
    let now = time::OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now);
    now.format(&Rfc3339).unwrap_or_default()
}
