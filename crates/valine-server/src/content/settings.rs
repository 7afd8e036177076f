//! User settings: three sections with seed defaults, merged key by key on update.

use serde_json::{Map, Value, json};

use crate::error::{ApiError, FieldErrors};

pub fn default_notifications() -> Value {
    json!({"email": true, "push": true, "reelRequests": true, "messages": true,
           "comments": true, "likes": true})
}

pub fn default_account_security() -> Value {
    json!({"loginNotifications": true})
}

pub fn default_privacy() -> Value {
    json!({"showActivity": true, "allowMessagesFrom": "everyone", "showOnlineStatus": true})
}

/// The type a key accepts.
enum Kind {
    Bool,
    OneOf(&'static [&'static str]),
}

fn schema(section: &str) -> &'static [(&'static str, Kind)] {
    const NOTIFICATIONS: &[(&str, Kind)] = &[
        ("email", Kind::Bool),
        ("push", Kind::Bool),
        ("reelRequests", Kind::Bool),
        ("messages", Kind::Bool),
        ("comments", Kind::Bool),
        ("likes", Kind::Bool),
    ];
    const ACCOUNT_SECURITY: &[(&str, Kind)] = &[("loginNotifications", Kind::Bool)];
    const PRIVACY: &[(&str, Kind)] = &[
        ("showActivity", Kind::Bool),
        (
            "allowMessagesFrom",
            Kind::OneOf(&["everyone", "connections", "nobody"]),
        ),
        ("showOnlineStatus", Kind::Bool),
    ];
    match section {
        "notifications" => NOTIFICATIONS,
        "accountSecurity" => ACCOUNT_SECURITY,
        "privacy" => PRIVACY,
        _ => &[],
    }
}

/// Merges `patch` (the body's value for `section`) into `stored`, key by key. Unknown keys,
/// wrong types and writes to derived keys are collected into `errors`.
pub fn merge_section(section: &str, stored: &mut Value, patch: &Value, errors: &mut FieldErrors) {
    let Some(patch) = patch.as_object() else {
        errors.insert(section.into(), "must be an object".into());
        return;
    };
    if !stored.is_object() {
        *stored = Value::Object(Map::new());
    }
    for (key, value) in patch {
        let field = format!("{section}.{key}");
        if section == "accountSecurity" && key == "twoFactorEnabled" {
            errors.insert(field, "is read-only; use the two-factor endpoints".into());
            continue;
        }
        let Some((_, kind)) = schema(section).iter().find(|(k, _)| k == key) else {
            errors.insert(field, "is not a known setting".into());
            continue;
        };
        let ok = match kind {
            Kind::Bool => value.is_boolean(),
            Kind::OneOf(allowed) => value.as_str().is_some_and(|s| allowed.contains(&s)),
        };
        if !ok {
            let expected = match kind {
                Kind::Bool => "must be true or false".to_string(),
                Kind::OneOf(allowed) => format!("must be one of {}", allowed.join(", ")),
            };
            errors.insert(field, expected);
            continue;
        }
        if let Some(obj) = stored.as_object_mut() {
            obj.insert(key.clone(), value.clone());
        }
    }
}

/// Validates a whole `PUT /settings` body and applies it to the three stored sections.
pub fn apply(
    body: &Value,
    notifications: &mut Value,
    account_security: &mut Value,
    privacy: &mut Value,
) -> Result<(), ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::validation("body", "must be a JSON object"));
    };
    let mut errors = FieldErrors::new();
    for (section, value) in obj {
        match section.as_str() {
            "notifications" => merge_section(section, notifications, value, &mut errors),
            "accountSecurity" => merge_section(section, account_security, value, &mut errors),
            "privacy" => merge_section(section, privacy, value, &mut errors),
            other => {
                errors.insert(other.to_string(), "is not a settings section".into());
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_refuses() {
        let (mut n, mut a, mut p) = (
            default_notifications(),
            default_account_security(),
            default_privacy(),
        );
        apply(
            &json!({"notifications": {"push": false}, "privacy": {"allowMessagesFrom": "nobody"}}),
            &mut n,
            &mut a,
            &mut p,
        )
        .unwrap();
        assert_eq!(n["push"], false);
        assert_eq!(n["email"], true, "other keys kept");
        assert_eq!(p["allowMessagesFrom"], "nobody");
        for bad in [
            json!({"notifications": {"push": "no"}}),
            json!({"notifications": {"carrierPigeon": true}}),
            json!({"accountSecurity": {"twoFactorEnabled": true}}),
            json!({"privacy": {"allowMessagesFrom": "martians"}}),
            json!({"theme": {}}),
            json!({"privacy": 3}),
            json!([1]),
        ] {
            let before = (n.clone(), a.clone(), p.clone());
            assert!(apply(&bad, &mut n, &mut a, &mut p).is_err(), "{bad}");
            let _ = before;
        }
    }
}
