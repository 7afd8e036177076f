//! `valine schema diff` as CI runs it: exit codes, report formats, positioned errors, and no
//! configuration or database needed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/prisma")
}

/// A fixture version by its prefix, e.g. `valine-14`.
fn fixture(prefix: &str) -> PathBuf {
    std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&format!("{prefix}-")) && name.ends_with(".prisma")
        })
        .unwrap_or_else(|| panic!("no fixture {prefix}"))
}

/// Runs the binary in an empty directory with no Valine configuration in its environment,
/// so a subcommand that loaded settings or touched a database would show it.
fn valine(args: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_valine"));
    cmd.args(args).current_dir(dir.path());
    for (k, _) in std::env::vars() {
        if k.starts_with("DATABASE_") || k == "DATA_DIR" || k == "APP_ENV" {
            cmd.env_remove(k);
        }
    }
    // Production mode without secrets refuses to load settings: proves they are not loaded.
    cmd.env("APP_ENV", "production")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none");
    (cmd.output().unwrap(), dir)
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn identical_schemas_and_changes_below_the_threshold_exit_0() {
    let v14 = fixture("valine-14");
    let v15 = fixture("valine-15");
    let (out, dir) = valine(&["schema", "diff", path(&v14), path(&v14), "--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("No database changes"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written to the working directory"
    );

    // 14 → 15 is destructive and high; without a threshold it still exits 0.
    let (out, _dir) = valine(&["schema", "diff", path(&v14), path(&v15)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // A low-risk pair stays under `high`.
    let v13 = fixture("valine-13");
    let (out, _dir) = valine(&[
        "schema",
        "diff",
        path(&v13),
        path(&v14),
        "--fail-on",
        "high",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Schema migration risk: LOW"));
}

#[test]
fn a_met_threshold_exits_2() {
    let (v14, v15) = (fixture("valine-14"), fixture("valine-15"));
    for threshold in ["destructive", "high", "low"] {
        let (out, _dir) = valine(&[
            "schema",
            "diff",
            path(&v14),
            path(&v15),
            "--format",
            "text",
            "--fail-on",
            threshold,
        ]);
        assert_eq!(out.status.code(), Some(2), "{threshold}: {out:?}");
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(report.contains("dropModel (destructive)"), "{report}");
    }
}

#[test]
fn json_format_is_the_analysis() {
    let (v14, v15) = (fixture("valine-14"), fixture("valine-15"));
    let (out, _dir) = valine(&["schema", "diff", path(&v14), path(&v15), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let score = json["riskScore"].as_u64().unwrap();
    let sum: u64 = json["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["risk"].as_u64().unwrap())
        .sum();
    assert_eq!(score, sum);
    assert!(score > 50);
    assert_eq!(json["severity"], "high");
    assert_eq!(json["summary"]["hasDestructive"], true);
}

#[test]
fn errors_exit_1_with_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.prisma");
    let bad = dir.path().join("bad.prisma");
    std::fs::write(&good, "model A {\n  id Int @id\n}\n").unwrap();
    std::fs::write(&bad, "model A\n{\n  id Int @id\n}\n").unwrap();

    let (out, _cwd) = valine(&["schema", "diff", path(&good), path(&bad)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{}:2:1: ", bad.display())),
        "{stderr}"
    );
    // The base side names the base file.
    let (out, _cwd) = valine(&["schema", "diff", path(&bad), path(&good)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!("{}:2:1: ", bad.display())));

    let missing = dir.path().join("missing.prisma");
    let (out, _cwd) = valine(&["schema", "diff", path(&good), path(&missing)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.prisma"));

    // A usage error is an error (1), never "threshold met" (2).
    let (out, _cwd) = valine(&[
        "schema",
        "diff",
        path(&good),
        path(&good),
        "--fail-on",
        "sometimes",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

/// A real `valine serve` on a free port in its own data directory. Killed on drop.
struct Server {
    child: std::process::Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment of the server and of the CLI commands that share its database.
fn server_env(cmd: &mut Command, dir: &std::path::Path) {
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("DATABASE_") || k == "APP_ENV" || k == "NODE_ENV" {
            cmd.env_remove(k);
        }
    }
    cmd.env("DATA_DIR", dir)
        .env("ARGON2_MEMORY_KIB", "64")
        .env("ARGON2_ITERATIONS", "1")
        .env("RATE_LIMIT_AUTH", "100000/900");
}

impl Server {
    fn start() -> Server {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let base = format!("http://127.0.0.1:{port}");
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_valine"));
        server_env(&mut cmd, dir.path());
        cmd.arg("serve")
            .env("PORT", port.to_string())
            .env("PUBLIC_URL", &base)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let server = Server {
            child: cmd.spawn().unwrap(),
            base,
            dir,
        };
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("valine serve did not start on {}", server.base);
    }

    /// `valine api-key create` against the server's database; the key is the last line.
    fn api_key(&self, scope: &str) -> String {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_valine"));
        server_env(&mut cmd, self.dir.path());
        let out = cmd
            .args([
                "api-key",
                "create",
                "--name",
                "journey-gate",
                "--scope",
                scope,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_string()
    }
}

#[test]
fn journey_run_gates_on_a_real_server_and_its_junit_parses() {
    let server = Server::start();
    let key = server.api_key("journey");
    let out_dir = tempfile::tempdir().unwrap();
    let junit = out_dir.path().join("journey.xml");

    // Passed: exit 0, one passing testcase per step. The CLI runs with production mode
    // and an unreachable database in its environment: it loads no settings.
    let (out, _dir) = valine(&[
        "journey",
        "run",
        "--base-url",
        &server.base,
        "--api-key",
        &key,
        "--format",
        "junit",
        "--out",
        path(&junit),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("[5/9] uploadMedia   passed"), "{stderr}");
    let cases = valine_ci::junit::parse(&std::fs::read(&junit).unwrap()).unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c.test_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "register",
            "verify",
            "login",
            "createProfile",
            "uploadMedia",
            "searchSelf",
            "exportData",
            "logout",
            "cleanup"
        ]
    );
    assert!(
        cases
            .iter()
            .all(|c| c.status == valine_ci::junit::Status::Passed),
        "{cases:?}"
    );

    // Failed (no key: verify cannot get a token): exit 1, and the JUnit file is still
    // written, with the failure and the skips.
    std::fs::remove_file(&junit).unwrap();
    let (out, _dir) = valine(&[
        "journey",
        "run",
        "--base-url",
        &server.base,
        "--format",
        "junit",
        "--out",
        path(&junit),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("verify") && stderr.contains("failed"),
        "{stderr}"
    );
    let cases = valine_ci::junit::parse(&std::fs::read(&junit).unwrap()).unwrap();
    use valine_ci::junit::Status;
    let statuses: Vec<Status> = cases.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Passed,
            Status::Failed,
            Status::Skipped,
            Status::Skipped,
            Status::Skipped,
            Status::Skipped,
            Status::Skipped,
            Status::Skipped,
            Status::Passed
        ]
    );
    assert!(
        cases[1]
            .message
            .as_deref()
            .unwrap_or("")
            .contains("API key"),
        "{cases:?}"
    );

    // JSON to stdout, and an unknown scenario is a usage error (exit 1).
    let (out, _dir) = valine(&[
        "journey",
        "run",
        "--base-url",
        &server.base,
        "--api-key",
        &key,
        "--format",
        "json",
        "--scenario",
        "login",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["metadata"]["simulated"], false);
    assert_eq!(doc["journey"]["summary"]["total"], 3);
    let (out, _dir) = valine(&[
        "journey",
        "run",
        "--base-url",
        &server.base,
        "--scenario",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scenario"));
}
