//! Typed settings, read once from the environment (and `.env`) and validated at start.
//!
//! Every variable of SPEC §1 lives here. A bad value stops the process with one line that
//! names the variable ([`ConfigError`]). Secrets are [`Secret`]s: `Debug` and the
//! `valine config` listing redact them.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::RngCore;

/// A secret value: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A configuration problem, naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    StartTls,
    Tls,
    None,
}

/// A CIDR block (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = s.parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Everything the server needs to know, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub jwt_secret: Secret,
    pub data_encryption_key: Secret,
    /// Earlier keys, still accepted for opening values sealed before a rotation.
    pub data_encryption_old_keys: Vec<Secret>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub refresh_reuse_grace: Duration,
    pub verification_token_ttl: Duration,
    pub reset_token_ttl: Duration,
    pub cookie_domain: Option<String>,
    pub frontend_url: String,
    pub allowed_origins: Vec<String>,
    pub trusted_proxies: Vec<Cidr>,
    pub email_enabled: bool,
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_user: Option<String>,
    pub smtp_pass: Option<Secret>,
    pub smtp_tls: SmtpTls,
    pub from_email: String,
    pub mail_outbox_dir: PathBuf,
    /// Outbox retry schedule: `base · 2^attempt`, capped (SPEC §4: 30 s).
    pub mail_retry_base_ms: u64,
    pub mail_retry_max_ms: u64,
    pub mail_max_attempts: u32,
    pub mail_poll_interval_ms: u64,
    pub two_factor_enabled: bool,
    pub csrf_enabled: bool,
    pub rate_limiting_enabled: bool,
    pub pr_intel_enabled: bool,
    pub flaky_detector_enabled: bool,
    pub schema_diff_enabled: bool,
    pub synthetic_journey_enabled: bool,
    pub pr_intel_webhook_secret: Option<Secret>,
    pub pr_intel_sensitive_paths: Option<Vec<String>>,
    pub api_base_url: String,
    pub journey_email_domain: String,
    pub media_store: String,
    pub media_max_bytes: u64,
    /// Lifetime of signed media upload URLs (SPEC §8: 15 minutes); tests shorten it.
    pub media_upload_url_ttl: Duration,
    pub auto_migrate: bool,
    pub log_format: LogFormat,
    /// Argon2 memory cost in KiB (≥ 19456, OWASP's floor). Tests may lower it only through
    /// `ARGON2_MEMORY_KIB`, which production refuses below the floor.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// Upper bound on concurrent password hashes, so a login flood queues instead of
    /// starving the blocking pool and every other request.
    pub password_hash_concurrency: usize,
    pub request_timeout: Duration,
    /// Rate-limit tiers (SPEC §7), `N/SECONDS`.
    pub rate_limit_auth: crate::ratelimit::Rule,
    pub rate_limit_write: crate::ratelimit::Rule,
    pub rate_limit_read: crate::ratelimit::Rule,
    /// Per-account login throttle: consecutive failures per 15 minutes, failures per hour.
    pub login_failures_short: crate::ratelimit::Rule,
    pub login_failures_long: crate::ratelimit::Rule,
    /// Prefix of every Redis key Valine writes (tests isolate themselves with it).
    pub redis_key_prefix: String,
}

/// Where settings come from: the process environment merged over `.env`, or a map (tests).
pub struct Source {
    vars: HashMap<String, String>,
}

impl Source {
    /// The process environment, with `.env` in the working directory filling gaps.
    pub fn from_env() -> Source {
        let mut vars: HashMap<String, String> = HashMap::new();
        if let Ok(iter) = dotenvy::from_path_iter(".env") {
            for (k, v) in iter.flatten() {
                vars.insert(k, v);
            }
        }
        for (k, v) in std::env::vars_os() {
            if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
                vars.insert(k, v);
            }
        }
        Source { vars }
    }

    pub fn from_map<I, K, V>(iter: I) -> Source
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Source {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    fn get(&self, var: &str) -> Option<&str> {
        self.vars
            .get(var)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    fn string(&self, var: &str, default: &str) -> String {
        self.get(var).unwrap_or(default).to_string()
    }

    fn bool(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(var).map(|s| s.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(bad(var, format!("expected true or false, got {v:?}"))),
            },
        }
    }

    fn number<T>(&self, var: &'static str, default: T, min: T, max: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
    {
        match self.get(var) {
            None => Ok(default),
            Some(v) => {
                let n: T = v
                    .parse()
                    .map_err(|_| bad(var, format!("expected a number, got {v:?}")))?;
                if n < min || n > max {
                    return Err(bad(var, format!("must be between {min} and {max}")));
                }
                Ok(n)
            }
        }
    }

    fn rule(
        &self,
        var: &'static str,
        default: &str,
    ) -> Result<crate::ratelimit::Rule, ConfigError> {
        let v = self.string(var, default);
        crate::ratelimit::Rule::parse(&v)
            .ok_or_else(|| bad(var, format!("expected N/SECONDS (e.g. 10/900), got {v:?}")))
    }

    fn url(&self, var: &'static str, default: &str) -> Result<String, ConfigError> {
        let v = self.string(var, default);
        if !(v.starts_with("http://") || v.starts_with("https://")) {
            return Err(bad(var, "must be an http:// or https:// URL"));
        }
        Ok(v.trim_end_matches('/').to_string())
    }
}

const ARGON2_MIN_MEMORY_KIB: u32 = 19 * 1024;

impl Settings {
    /// Reads and validates settings. In development, missing `JWT_SECRET` and
    /// `DATA_ENCRYPTION_KEY` are generated once into `DATA_DIR` (mode 0600) and reused.
    pub fn load(src: &Source) -> Result<Settings, ConfigError> {
        let environment = match (src.get("APP_ENV"), src.get("NODE_ENV")) {
            (Some(v), _) | (None, Some(v)) if v.eq_ignore_ascii_case("production") => {
                Environment::Production
            }
            (Some(v), _) if !matches!(v, "development" | "dev" | "test") => {
                return Err(bad("APP_ENV", "must be development, test or production"));
            }
            _ => Environment::Development,
        };
        let production = environment == Environment::Production;

        let host = src.string("HOST", "127.0.0.1");
        if host.parse::<IpAddr>().is_err() && host != "localhost" {
            return Err(bad("HOST", "must be an IP address or localhost"));
        }
        let port: u16 = src.number("PORT", 3000, 0, u16::MAX)?;
        let public_url = src.url("PUBLIC_URL", &format!("http://{host}:{port}"))?;
        let data_dir = PathBuf::from(src.string("DATA_DIR", "./data"));
        let database_url = src.string(
            "DATABASE_URL",
            &format!("sqlite://{}/valine.db", data_dir.display()),
        );
        if valine_store::Backend::from_url(&database_url).is_err() {
            return Err(bad(
                "DATABASE_URL",
                "must start with sqlite:// or postgres://",
            ));
        }
        let redis_url = src.get("REDIS_URL").map(str::to_string);
        if let Some(r) = &redis_url
            && !(r.starts_with("redis://") || r.starts_with("rediss://"))
        {
            return Err(bad("REDIS_URL", "must start with redis:// or rediss://"));
        }

        let jwt_secret = match src.get("JWT_SECRET") {
            Some(s) if s.len() >= 32 => Secret::new(s.as_bytes().to_vec()),
            Some(_) => return Err(bad("JWT_SECRET", "must be at least 32 bytes")),
            None if production => {
                return Err(bad(
                    "JWT_SECRET",
                    "required in production (at least 32 bytes)",
                ));
            }
            None => generated_secret(&data_dir, "jwt_secret", "JWT_SECRET")?,
        };
        let data_encryption_key = match src.get("DATA_ENCRYPTION_KEY") {
            Some(s) => Secret::new(decode_key(s).ok_or_else(|| {
                bad(
                    "DATA_ENCRYPTION_KEY",
                    "must be 32 bytes as 64 hex characters or base64",
                )
            })?),
            None if production => {
                return Err(bad("DATA_ENCRYPTION_KEY", "required in production"));
            }
            None => generated_secret(&data_dir, "data_encryption_key", "DATA_ENCRYPTION_KEY")?,
        };

        let mut data_encryption_old_keys = Vec::new();
        if let Some(list) = src.get("DATA_ENCRYPTION_OLD_KEYS") {
            for k in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                data_encryption_old_keys.push(Secret::new(decode_key(k).ok_or_else(|| {
                    bad(
                        "DATA_ENCRYPTION_OLD_KEYS",
                        "each key must be 32 bytes as 64 hex characters or base64",
                    )
                })?));
            }
        }
        let frontend_url = src.url("FRONTEND_URL", "http://localhost:5173")?;
        let allowed_origins: Vec<String> = match src.get("ALLOWED_ORIGINS") {
            None => vec![origin_of(&frontend_url)],
            Some(list) => {
                let mut out = Vec::new();
                for o in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    if o == "*" || !(o.starts_with("http://") || o.starts_with("https://")) {
                        return Err(bad(
                            "ALLOWED_ORIGINS",
                            "a comma-separated list of http(s) origins; '*' is not allowed",
                        ));
                    }
                    out.push(o.trim_end_matches('/').to_string());
                }
                out
            }
        };
        let mut trusted_proxies = Vec::new();
        if let Some(list) = src.get("TRUSTED_PROXIES") {
            for c in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                trusted_proxies.push(
                    Cidr::parse(c).ok_or_else(|| {
                        bad("TRUSTED_PROXIES", format!("{c:?} is not a CIDR or IP"))
                    })?,
                );
            }
        }

        let email_enabled = src.bool("EMAIL_ENABLED", false)?;
        let smtp_host = src.get("SMTP_HOST").map(str::to_string);
        if email_enabled && smtp_host.is_none() {
            return Err(bad("SMTP_HOST", "required when EMAIL_ENABLED=true"));
        }
        let smtp_tls = match src
            .get("SMTP_TLS")
            .map(|s| s.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("starttls") => SmtpTls::StartTls,
            Some("tls") => SmtpTls::Tls,
            Some("none") => SmtpTls::None,
            Some(_) => return Err(bad("SMTP_TLS", "must be starttls, tls or none")),
        };
        let from_email = src.string("FROM_EMAIL", "noreply@localhost");
        if !from_email.contains('@') {
            return Err(bad("FROM_EMAIL", "must be an email address"));
        }
        let mail_outbox_dir = src
            .get("MAIL_OUTBOX_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("outbox"));

        let log_format = match src
            .get("LOG_FORMAT")
            .map(|s| s.to_ascii_lowercase())
            .as_deref()
        {
            None if production => LogFormat::Json,
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(bad("LOG_FORMAT", "must be pretty or json")),
        };

        let argon2_memory_kib = src.number(
            "ARGON2_MEMORY_KIB",
            ARGON2_MIN_MEMORY_KIB,
            8,
            4 * 1024 * 1024,
        )?;
        if production && argon2_memory_kib < ARGON2_MIN_MEMORY_KIB {
            return Err(bad(
                "ARGON2_MEMORY_KIB",
                "production requires at least 19456 (19 MiB)",
            ));
        }
        let argon2_iterations = src.number("ARGON2_ITERATIONS", 2, 1, 100)?;
        if production && argon2_iterations < 2 {
            return Err(bad("ARGON2_ITERATIONS", "production requires at least 2"));
        }

        let media_store = src.string("MEDIA_STORE", &data_dir.join("media").display().to_string());
        if media_store.contains("://") {
            // Only local directories are built so far (S3 is planned behind a cargo
            // feature); refuse a URL rather than write under a directory named "s3:".
            return Err(bad(
                "MEDIA_STORE",
                "must be a directory (s3:// storage is not available in this build)",
            ));
        }
        let api_base_url = src.url("API_BASE_URL", &public_url)?;
        let journey_email_domain = src.string("JOURNEY_EMAIL_DOMAIN", "journey.valine.invalid");
        if journey_email_domain.contains('@') || !journey_email_domain.contains('.') {
            return Err(bad("JOURNEY_EMAIL_DOMAIN", "must be a domain name"));
        }

        Ok(Settings {
            environment,
            host,
            port,
            public_url,
            database_url,
            redis_url,
            jwt_secret,
            data_encryption_key,
            data_encryption_old_keys,
            access_token_ttl: Duration::from_secs(src.number(
                "ACCESS_TOKEN_TTL_SECONDS",
                900,
                1,
                86_400,
            )?),
            refresh_token_ttl: Duration::from_secs(src.number(
                "REFRESH_TOKEN_TTL_SECONDS",
                2_592_000,
                60,
                31_536_000,
            )?),
            refresh_reuse_grace: Duration::from_secs(src.number(
                "REFRESH_REUSE_GRACE_SECONDS",
                10,
                0,
                3600,
            )?),
            verification_token_ttl: Duration::from_secs(src.number(
                "VERIFICATION_TOKEN_TTL_SECONDS",
                86_400,
                1,
                2_592_000,
            )?),
            reset_token_ttl: Duration::from_secs(src.number(
                "RESET_TOKEN_TTL_SECONDS",
                1800,
                1,
                86_400,
            )?),
            cookie_domain: src.get("COOKIE_DOMAIN").map(str::to_string),
            frontend_url,
            allowed_origins,
            trusted_proxies,
            email_enabled,
            smtp_host,
            smtp_port: src.number("SMTP_PORT", 587, 1, u16::MAX)?,
            smtp_user: src.get("SMTP_USER").map(str::to_string),
            smtp_pass: src
                .get("SMTP_PASS")
                .map(|s| Secret::new(s.as_bytes().to_vec())),
            smtp_tls,
            from_email,
            mail_outbox_dir,
            mail_retry_base_ms: src.number("MAIL_RETRY_BASE_MS", 1000, 1, 3_600_000)?,
            mail_retry_max_ms: src.number("MAIL_RETRY_MAX_MS", 30_000, 1, 3_600_000)?,
            mail_max_attempts: src.number("MAIL_MAX_ATTEMPTS", 50, 1, 10_000)?,
            mail_poll_interval_ms: src.number("MAIL_POLL_INTERVAL_MS", 1000, 10, 600_000)?,
            two_factor_enabled: src.bool("TWO_FACTOR_ENABLED", true)?,
            csrf_enabled: src.bool("CSRF_ENABLED", true)?,
            rate_limiting_enabled: src.bool("RATE_LIMITING_ENABLED", true)?,
            pr_intel_enabled: src.bool("PR_INTEL_ENABLED", true)?,
            flaky_detector_enabled: src.bool("FLAKY_DETECTOR_ENABLED", true)?,
            schema_diff_enabled: src.bool("SCHEMA_DIFF_ENABLED", true)?,
            synthetic_journey_enabled: src.bool("SYNTHETIC_JOURNEY_ENABLED", true)?,
            pr_intel_webhook_secret: src
                .get("PR_INTEL_WEBHOOK_SECRET")
                .map(|s| Secret::new(s.as_bytes().to_vec())),
            pr_intel_sensitive_paths: src.get("PR_INTEL_SENSITIVE_PATHS").map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_string)
                    .collect()
            }),
            api_base_url,
            journey_email_domain,
            media_store,
            media_max_bytes: src.number("MEDIA_MAX_BYTES", 104_857_600, 1, u64::MAX)?,
            media_upload_url_ttl: Duration::from_secs(src.number(
                "MEDIA_UPLOAD_URL_TTL_SECONDS",
                900,
                1,
                86_400,
            )?),
            auto_migrate: src.bool("AUTO_MIGRATE", true)?,
            log_format,
            argon2_memory_kib,
            argon2_iterations,
            password_hash_concurrency: src.number(
                "PASSWORD_HASH_CONCURRENCY",
                default_hash_concurrency(),
                1,
                256,
            )?,
            request_timeout: Duration::from_secs(src.number(
                "REQUEST_TIMEOUT_SECONDS",
                30,
                1,
                3600,
            )?),
            rate_limit_auth: src.rule("RATE_LIMIT_AUTH", "10/900")?,
            rate_limit_write: src.rule("RATE_LIMIT_WRITE", "100/3600")?,
            rate_limit_read: src.rule("RATE_LIMIT_READ", "1000/3600")?,
            login_failures_short: src.rule("LOGIN_FAILURES_SHORT", "10/900")?,
            login_failures_long: src.rule("LOGIN_FAILURES_LONG", "100/3600")?,
            redis_key_prefix: src.string("REDIS_KEY_PREFIX", "valine:rl:"),
            data_dir,
        })
    }

    /// The origin (`scheme://host[:port]`) of `PUBLIC_URL`: the server's own pages are
    /// never cross-site.
    pub fn public_origin(&self) -> String {
        origin_of(&self.public_url)
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// The effective configuration as `(VARIABLE, value)` pairs, secrets redacted, for
    /// `valine config`.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let redact = |s: &Option<Secret>| match s {
            Some(_) => "[redacted]".to_string(),
            None => "(unset)".to_string(),
        };
        let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "(unset)".to_string());
        let rule = |r: &crate::ratelimit::Rule| format!("{}/{}", r.max, r.window.as_secs());
        vec![
            (
                "APP_ENV",
                match self.environment {
                    Environment::Development => "development".into(),
                    Environment::Production => "production".into(),
                },
            ),
            ("HOST", self.host.clone()),
            ("PORT", self.port.to_string()),
            ("PUBLIC_URL", self.public_url.clone()),
            ("DATA_DIR", self.data_dir.display().to_string()),
            ("DATABASE_URL", redact_url_password(&self.database_url)),
            (
                "REDIS_URL",
                self.redis_url
                    .as_deref()
                    .map(redact_url_password)
                    .unwrap_or_else(|| "(unset)".into()),
            ),
            ("JWT_SECRET", "[redacted]".into()),
            ("DATA_ENCRYPTION_KEY", "[redacted]".into()),
            (
                "DATA_ENCRYPTION_OLD_KEYS",
                if self.data_encryption_old_keys.is_empty() {
                    "(unset)".into()
                } else {
                    "[redacted]".into()
                },
            ),
            (
                "ACCESS_TOKEN_TTL_SECONDS",
                self.access_token_ttl.as_secs().to_string(),
            ),
            (
                "REFRESH_TOKEN_TTL_SECONDS",
                self.refresh_token_ttl.as_secs().to_string(),
            ),
            (
                "REFRESH_REUSE_GRACE_SECONDS",
                self.refresh_reuse_grace.as_secs().to_string(),
            ),
            (
                "VERIFICATION_TOKEN_TTL_SECONDS",
                self.verification_token_ttl.as_secs().to_string(),
            ),
            (
                "RESET_TOKEN_TTL_SECONDS",
                self.reset_token_ttl.as_secs().to_string(),
            ),
            ("COOKIE_DOMAIN", opt(&self.cookie_domain)),
            ("FRONTEND_URL", self.frontend_url.clone()),
            ("ALLOWED_ORIGINS", self.allowed_origins.join(",")),
            (
                "TRUSTED_PROXIES",
                self.trusted_proxies
                    .iter()
                    .map(|c| format!("{}/{}", c.addr, c.prefix))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("EMAIL_ENABLED", self.email_enabled.to_string()),
            ("SMTP_HOST", opt(&self.smtp_host)),
            ("SMTP_PORT", self.smtp_port.to_string()),
            ("SMTP_USER", opt(&self.smtp_user)),
            ("SMTP_PASS", redact(&self.smtp_pass)),
            (
                "SMTP_TLS",
                match self.smtp_tls {
                    SmtpTls::StartTls => "starttls".into(),
                    SmtpTls::Tls => "tls".into(),
                    SmtpTls::None => "none".into(),
                },
            ),
            ("FROM_EMAIL", self.from_email.clone()),
            (
                "MAIL_OUTBOX_DIR",
                self.mail_outbox_dir.display().to_string(),
            ),
            ("MAIL_RETRY_BASE_MS", self.mail_retry_base_ms.to_string()),
            ("MAIL_RETRY_MAX_MS", self.mail_retry_max_ms.to_string()),
            ("MAIL_MAX_ATTEMPTS", self.mail_max_attempts.to_string()),
            (
                "MAIL_POLL_INTERVAL_MS",
                self.mail_poll_interval_ms.to_string(),
            ),
            ("TWO_FACTOR_ENABLED", self.two_factor_enabled.to_string()),
            ("CSRF_ENABLED", self.csrf_enabled.to_string()),
            (
                "RATE_LIMITING_ENABLED",
                self.rate_limiting_enabled.to_string(),
            ),
            ("PR_INTEL_ENABLED", self.pr_intel_enabled.to_string()),
            (
                "FLAKY_DETECTOR_ENABLED",
                self.flaky_detector_enabled.to_string(),
            ),
            ("SCHEMA_DIFF_ENABLED", self.schema_diff_enabled.to_string()),
            (
                "SYNTHETIC_JOURNEY_ENABLED",
                self.synthetic_journey_enabled.to_string(),
            ),
            (
                "PR_INTEL_WEBHOOK_SECRET",
                redact(&self.pr_intel_webhook_secret),
            ),
            (
                "PR_INTEL_SENSITIVE_PATHS",
                self.pr_intel_sensitive_paths
                    .as_ref()
                    .map(|v| v.join(","))
                    .unwrap_or_else(|| "(default)".into()),
            ),
            ("API_BASE_URL", self.api_base_url.clone()),
            ("JOURNEY_EMAIL_DOMAIN", self.journey_email_domain.clone()),
            ("MEDIA_STORE", self.media_store.clone()),
            ("MEDIA_MAX_BYTES", self.media_max_bytes.to_string()),
            (
                "MEDIA_UPLOAD_URL_TTL_SECONDS",
                self.media_upload_url_ttl.as_secs().to_string(),
            ),
            ("AUTO_MIGRATE", self.auto_migrate.to_string()),
            (
                "LOG_FORMAT",
                match self.log_format {
                    LogFormat::Pretty => "pretty".into(),
                    LogFormat::Json => "json".into(),
                },
            ),
            ("ARGON2_MEMORY_KIB", self.argon2_memory_kib.to_string()),
            ("ARGON2_ITERATIONS", self.argon2_iterations.to_string()),
            (
                "PASSWORD_HASH_CONCURRENCY",
                self.password_hash_concurrency.to_string(),
            ),
            (
                "REQUEST_TIMEOUT_SECONDS",
                self.request_timeout.as_secs().to_string(),
            ),
            ("RATE_LIMIT_AUTH", rule(&self.rate_limit_auth)),
            ("RATE_LIMIT_WRITE", rule(&self.rate_limit_write)),
            ("RATE_LIMIT_READ", rule(&self.rate_limit_read)),
            ("LOGIN_FAILURES_SHORT", rule(&self.login_failures_short)),
            ("LOGIN_FAILURES_LONG", rule(&self.login_failures_long)),
            ("REDIS_KEY_PREFIX", self.redis_key_prefix.clone()),
        ]
    }
}

/// Half the cores (at least one): Argon2 is CPU-bound, and leaving cores free keeps
/// session checks fast during a login flood.
fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism()
        .map(|n| (n.get() / 2).max(1))
        .unwrap_or(1)
}

/// `scheme://user:pass@host` → `scheme://user:***@host`.
fn redact_url_password(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
        && let Some((user, _)) = creds.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

/// `https://app.example.com/path` → `https://app.example.com`.
fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or(rest);
            format!("{scheme}://{host}")
        }
        None => url.to_string(),
    }
}

fn decode_key(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    if s.len() == 64
        && let Ok(bytes) = hex::decode(s)
    {
        return Some(bytes);
    }
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .ok()
        .filter(|b| b.len() == 32)
}

/// Loads `DATA_DIR/<name>`, creating it with 32 random bytes (mode 0600) on first run, so a
/// development server keeps its sessions across restarts.
fn generated_secret(dir: &Path, name: &str, var: &'static str) -> Result<Secret, ConfigError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| bad(var, format!("{} is corrupt; delete it", path.display())))?;
            return Ok(Secret::new(bytes));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(bad(var, format!("cannot read {}: {e}", path.display()))),
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| bad("DATA_DIR", format!("cannot create {}: {e}", dir.display())))?;
    let mut bytes = vec![0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    write_private(&path, hex::encode(&bytes).as_bytes())
        .map_err(|e| bad(var, format!("cannot write {}: {e}", path.display())))?;
    Ok(Secret::new(bytes))
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load(&Source::from_map(vars.iter().copied()))
    }

    #[test]
    fn production_requires_secrets() {
        let err = load(&[("APP_ENV", "production")]).unwrap_err();
        assert_eq!(err.var, "JWT_SECRET");
        let err = load(&[
            ("NODE_ENV", "production"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "DATA_ENCRYPTION_KEY");
        let short = load(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(short.var, "JWT_SECRET");
    }

    #[test]
    fn development_generates_secrets_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let a = load(&[("DATA_DIR", d)]).unwrap();
        let b = load(&[("DATA_DIR", d)]).unwrap();
        assert_eq!(a.jwt_secret, b.jwt_secret);
        assert_eq!(a.data_encryption_key, b.data_encryption_key);
        assert_eq!(a.jwt_secret.expose().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt_secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        for (var, value) in [
            ("PORT", "eighty"),
            ("PORT", "70000"),
            ("EMAIL_ENABLED", "maybe"),
            ("DATABASE_URL", "mysql://x"),
            ("ALLOWED_ORIGINS", "*"),
            ("TRUSTED_PROXIES", "10.0.0.0/99"),
            ("SMTP_TLS", "ssl3"),
            ("ACCESS_TOKEN_TTL_SECONDS", "0"),
            ("FRONTEND_URL", "ftp://x"),
            ("DATA_ENCRYPTION_KEY", "abcd"),
        ] {
            let err = load(&[("DATA_DIR", d), (var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{var}={value}");
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let s = load(&[
            ("JWT_SECRET", "super-secret-value-that-is-long-enough"),
            ("DATA_ENCRYPTION_KEY", &"ab".repeat(32)),
        ])
        .unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("super-secret-value"));
        let described = format!("{:?}", s.describe());
        assert!(!described.contains("super-secret-value"));
    }

    #[test]
    fn cidr_matching() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        assert!(
            Cidr::parse("127.0.0.1")
                .unwrap()
                .contains("127.0.0.1".parse().unwrap())
        );
    }
}
