//! `valine api-key …` and `valine tests upload …`: the internal tooling's CLI.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use valine_server::config::Settings;
use valine_server::internal::api_keys::{self, Scope};
use valine_store::Store;
use valine_store::api_keys::Revoked;

#[derive(Subcommand)]
pub enum ApiKeyAction {
    /// Create a key; the key itself is printed once, as the last line.
    Create {
        /// A name for the key (recorded as the actor of every internal write).
        #[arg(long)]
        name: String,
        /// pr-intel:read, pr-intel:write, tests:read, tests:write, schema, journey or all.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id; it stops working at once.
    Revoke { id: String },
}

#[derive(Subcommand)]
pub enum TestsAction {
    /// Send JUnit XML reports of a CI job to a Valine server (one batch per file).
    Upload {
        /// JUnit XML report files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Base URL of the Valine server, e.g. https://valine.example.com
        #[arg(long, env = "VALINE_URL")]
        url: String,
        /// An API key with the tests:write scope.
        #[arg(long, env = "VALINE_API_KEY", hide_env_values = true)]
        api_key: String,
        /// Commit the tests ran on (defaults to $GITHUB_SHA).
        #[arg(long, env = "GITHUB_SHA")]
        commit: Option<String>,
        /// Branch the tests ran on (defaults to $GITHUB_REF_NAME).
        #[arg(long, env = "GITHUB_REF_NAME")]
        branch: Option<String>,
        /// Run id shared by every file of this job; generated when absent.
        #[arg(long, env = "VALINE_RUN_ID")]
        run_id: Option<String>,
    },
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(&settings.database_url).await?;
    // Creating the first key usually precedes the first `serve`.
    if settings.auto_migrate {
        store.migrate_up().await?;
    }
    Ok(store)
}

fn when(ms: Option<i64>) -> String {
    ms.map(valine_server::timefmt::iso)
        .unwrap_or_else(|| "-".to_string())
}

pub async fn api_key(settings: Settings, action: ApiKeyAction) -> anyhow::Result<ExitCode> {
    let store = open_store(&settings).await?;
    let code = match action {
        ApiKeyAction::Create { name, scopes } => {
            let parsed: Result<Vec<Scope>, String> = scopes
                .iter()
                .flat_map(|s| s.split(','))
                .map(str::parse)
                .collect();
            let scopes = match parsed {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(1));
                }
            };
            let created = api_keys::create_api_key(&store, &name, &scopes, "cli").await?;
            let names: Vec<&str> = created.scopes.iter().map(|s| s.as_str()).collect();
            println!(
                "created API key {:?} (id {}) with scopes {}",
                created.name,
                created.id,
                names.join(",")
            );
            println!("store it now: it is shown only this once");
            println!("{}", created.key);
            ExitCode::SUCCESS
        }
        ApiKeyAction::List => {
            println!(
                "{:<36}  {:<24}  {:<40}  {:<24}  {:<24}  REVOKED",
                "ID", "NAME", "SCOPES", "CREATED", "LAST USED"
            );
            for k in api_keys::list_api_keys(&store).await? {
                println!(
                    "{:<36}  {:<24}  {:<40}  {:<24}  {:<24}  {}",
                    k.id,
                    k.name,
                    k.scopes,
                    when(Some(k.created_at)),
                    when(k.last_used_at),
                    when(k.revoked_at)
                );
            }
            ExitCode::SUCCESS
        }
        ApiKeyAction::Revoke { id } => match api_keys::revoke_api_key(&store, &id, "cli").await {
            Ok(Revoked::Now) => {
                println!("revoked {id}");
                ExitCode::SUCCESS
            }
            Ok(Revoked::Already) => {
                println!("{id} was already revoked");
                ExitCode::SUCCESS
            }
            Err(api_keys::ApiKeyError::NotFound(_)) => {
                eprintln!("error: no API key with id {id}");
                ExitCode::from(1)
            }
            Err(e) => return Err(e.into()),
        },
    };
    store.close().await;
    Ok(code)
}

/// What one upload did.
#[derive(Debug)]
pub struct Uploaded {
    pub file: PathBuf,
    pub count: u64,
}

/// Uploads each file as one JUnit batch; returns the successes and the failures' messages.
pub async fn upload(
    files: &[PathBuf],
    url: &str,
    api_key: &str,
    commit: Option<&str>,
    branch: Option<&str>,
    run_id: &str,
) -> anyhow::Result<(Vec<Uploaded>, Vec<String>)> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()?;
    let endpoint = format!("{}/internal/tests/ingest", url.trim_end_matches('/'));
    let mut query: Vec<(&str, &str)> = vec![("runId", run_id)];
    if let Some(c) = commit.filter(|c| !c.is_empty()) {
        query.push(("commitSha", c));
    }
    if let Some(b) = branch.filter(|b| !b.is_empty()) {
        query.push(("branch", b));
    }
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for file in files {
        let body = match tokio::fs::read(file).await {
            Ok(b) => b,
            Err(e) => {
                failed.push(format!("{}: cannot read: {e}", file.display()));
                continue;
            }
        };
        let sent = client
            .post(&endpoint)
            .query(&query)
            .bearer_auth(api_key)
            .header(reqwest::header::CONTENT_TYPE, "application/xml")
            .body(body)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                failed.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        let status = resp.status();
        let json: serde_json::Value = resp.json().await.unwrap_or_default();
        if status.is_success() {
            ok.push(Uploaded {
                file: file.clone(),
                count: json["count"].as_u64().unwrap_or(0),
            });
        } else {
            failed.push(format!(
                "{}: HTTP {}: {} {}",
                file.display(),
                status.as_u16(),
                json["error"].as_str().unwrap_or("(no message)"),
                json.get("details")
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ));
        }
    }
    Ok((ok, failed))
}

pub async fn tests(action: TestsAction) -> anyhow::Result<ExitCode> {
    let TestsAction::Upload {
        files,
        url,
        api_key,
        commit,
        branch,
        run_id,
    } = action;
    let run_id = run_id.unwrap_or_else(valine_store::new_id);
    let (ok, failed) = upload(
        &files,
        &url,
        &api_key,
        commit.as_deref(),
        branch.as_deref(),
        &run_id,
    )
    .await?;
    for u in &ok {
        println!(
            "uploaded {}: {} results (run {run_id})",
            u.file.display(),
            u.count
        );
    }
    for f in &failed {
        eprintln!("error: {f}");
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use valine_server::config::Source;

    /// The CLI's upload path against a real server: a fixture report lands as results,
    /// a malformed one is reported as a failure with the server's message.
    #[tokio::test]
    async fn upload_sends_reports_to_a_real_server() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap().to_string();
        let settings = Settings::load(&Source::from_map(vec![
            ("DATA_DIR".to_string(), data.clone()),
            (
                "DATABASE_URL".to_string(),
                format!("sqlite://{data}/valine.db"),
            ),
        ]))
        .unwrap();
        let app = valine_server::build_app(settings).await.unwrap();
        let store = app.state().store.clone();
        let key = api_keys::create_api_key(&store, "cli-test", &[Scope::TestsWrite], "test")
            .await
            .unwrap()
            .key;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(app.run(listener, std::future::pending()));

        let fixtures =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/junit");
        let bad = dir.path().join("bad.xml");
        std::fs::write(&bad, "<testsuite><testcase name=\"x\">").unwrap();
        let files = vec![fixtures.join("10-pytest-props-xfail.xml"), bad.clone()];
        let (ok, failed) = upload(&files, &url, &key, Some("abc"), Some("main"), "run-7")
            .await
            .unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].count, 10);
        assert_eq!(failed.len(), 1);
        assert!(failed[0].contains("HTTP 400"), "{failed:?}");
        let totals = store.test_ingest_totals().await.unwrap();
        assert_eq!((totals.batches, totals.results), (1, 10));

        let (_, failed) = upload(&files[..1], &url, "vk_wrong", None, None, "r")
            .await
            .unwrap();
        assert!(failed[0].contains("HTTP 401"), "{failed:?}");
    }
}
