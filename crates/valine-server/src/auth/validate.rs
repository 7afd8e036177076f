//! Validated newtypes made once at the edge (parse, don't validate): deeper code cannot
//! receive an invalid email, username, display name or password.

use std::collections::HashSet;
use std::sync::OnceLock;

/// An email address: trimmed as given, plus its lower-cased form for uniqueness and lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    pub display: String,
    pub normalized: String,
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<EmailAddress, String> {
        let display = raw.trim().to_string();
        if display.is_empty() {
            return Err("Email is required".into());
        }
        if display.len() > 254 {
            return Err("Email must be at most 254 characters".into());
        }
        let Some((local, domain)) = display.rsplit_once('@') else {
            return Err("Email address is not valid".into());
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c) || !c.is_ascii()
            })
            && !local.chars().any(char::is_control);
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
                    && !l.chars().any(|c| c.is_control() || c.is_whitespace())
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if !(local_ok && domain_ok) {
            return Err("Email address is not valid".into());
        }
        Ok(EmailAddress {
            normalized: display.to_lowercase(),
            display,
        })
    }
}

/// 3–30 characters of `[A-Za-z0-9_]`; unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    pub display: String,
    pub normalized: String,
}

impl Username {
    pub fn parse(raw: &str) -> Result<Username, String> {
        let s = raw.trim();
        if s.len() < 3 || s.len() > 30 {
            return Err("Username must be 3 to 30 characters".into());
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err("Username may contain only letters, digits and underscores".into());
        }
        Ok(Username {
            display: s.to_string(),
            normalized: s.to_ascii_lowercase(),
        })
    }
}

/// 1–80 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(pub String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, String> {
        let s = raw.trim();
        let n = s.chars().count();
        if n == 0 || n > 80 {
            return Err("Display name must be 1 to 80 characters".into());
        }
        if s.chars().any(char::is_control) {
            return Err("Display name must not contain control characters".into());
        }
        Ok(DisplayName(s.to_string()))
    }
}

/// A password that passed the policy. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// 8–128 characters, not among the 10,000 most common passwords, not equal to the
    /// account's email or username (case-insensitively).
    pub fn parse(
        raw: &str,
        email: Option<&str>,
        username: Option<&str>,
    ) -> Result<Password, String> {
        let n = raw.chars().count();
        if n < 8 {
            return Err("Password must be at least 8 characters".into());
        }
        if n > 128 {
            return Err("Password must be at most 128 characters".into());
        }
        let lower = raw.to_lowercase();
        if common_passwords().contains(lower.as_str()) {
            return Err("This password is too common; choose another".into());
        }
        let same_as = |other: Option<&str>| other.is_some_and(|o| o.trim().to_lowercase() == lower);
        if same_as(email) || same_as(username) {
            return Err("Password must not be your email or username".into());
        }
        Ok(Password(raw.to_string()))
    }

    /// For code paths that must hash without policy (tests, dummy hashes).
    pub fn parse_unchecked(raw: &str) -> Password {
        Password(raw.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        let e = EmailAddress::parse("  Alice.Smith@Example.COM ").unwrap();
        assert_eq!(e.display, "Alice.Smith@Example.COM");
        assert_eq!(e.normalized, "alice.smith@example.com");
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.com",
            "a@.com",
            "a..b@x.com",
            "a b@x.com",
            "a@x_y.com",
            "a@-x.com",
            "a@x.c",
            "a@1.23",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn usernames_and_display_names() {
        assert_eq!(Username::parse("Alice_1").unwrap().normalized, "alice_1");
        for bad in ["ab", "has space", "émile", &"x".repeat(31), "dash-ed"] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
        assert!(DisplayName::parse("Zoë Kravitz").is_ok());
        assert!(DisplayName::parse("").is_err());
        assert!(DisplayName::parse(&"x".repeat(81)).is_err());
        assert!(DisplayName::parse("a\u{0007}b").is_err());
    }

    #[test]
    fn password_policy() {
        assert_eq!(common_passwords().len(), 10_000);
        assert!(Password::parse("short", None, None).is_err());
        assert!(Password::parse("password1", None, None).is_err(), "common");
        assert!(
            Password::parse("Password", None, None).is_err(),
            "common, any case"
        );
        assert!(Password::parse(&"x".repeat(129), None, None).is_err());
        assert!(Password::parse("alice_the_great", None, Some("Alice_The_Great")).is_err());
        assert!(Password::parse("me@example.com", Some("ME@example.com"), None).is_err());
        assert!(Password::parse("violet-anchor-91", Some("a@b.co"), Some("alice")).is_ok());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in ".{0,300}") {
            let _ = EmailAddress::parse(&s);
            let _ = Username::parse(&s);
            let _ = DisplayName::parse(&s);
            let _ = Password::parse(&s, Some(&s), Some(&s));
        }
    }
}
