//! API keys for `/internal/*` (SPEC §9): creation (shown once, stored as SHA-256), scopes,
//! listing and revocation. Used by the CLI and by tests; requests are authenticated by
//! `http::api_key::ApiKey`.

use std::fmt;
use std::str::FromStr;

use valine_store::Store;
use valine_store::api_keys::{ApiKeyRow, NewApiKey, Revoked};

use crate::auth::tokens::{hash_token, random_token};

/// Every key starts with this, so a leaked key is recognisable by secret scanners.
pub const KEY_PREFIX: &str = "vk_";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    PrIntelRead,
    PrIntelWrite,
    TestsRead,
    TestsWrite,
    Schema,
    Journey,
    /// Grants every scope, and alone grants `GET /internal/stats`.
    All,
}

impl Scope {
    pub const EVERY: [Scope; 7] = [
        Scope::PrIntelRead,
        Scope::PrIntelWrite,
        Scope::TestsRead,
        Scope::TestsWrite,
        Scope::Schema,
        Scope::Journey,
        Scope::All,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::PrIntelRead => "pr-intel:read",
            Scope::PrIntelWrite => "pr-intel:write",
            Scope::TestsRead => "tests:read",
            Scope::TestsWrite => "tests:write",
            Scope::Schema => "schema",
            Scope::Journey => "journey",
            Scope::All => "all",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::EVERY
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| {
                let known: Vec<&str> = Scope::EVERY.iter().map(|s| s.as_str()).collect();
                format!("unknown scope {s:?}; expected one of {}", known.join(", "))
            })
    }
}

/// Whether a key holding `held` may use a route needing `needed`.
pub fn grants(held: &[Scope], needed: Scope) -> bool {
    held.contains(&Scope::All) || held.contains(&needed)
}

/// Scopes as stored. Unknown names (from a newer version) are dropped, never widened.
pub fn parse_stored(scopes: &str) -> Vec<Scope> {
    scopes
        .split(',')
        .filter_map(|s| s.parse::<Scope>().ok())
        .collect()
}

/// A newly created key; `key` exists only here and is never stored.
#[derive(Debug)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("the key name must be 1–100 printable characters")]
    InvalidName,
    #[error("at least one scope is required")]
    NoScopes,
    #[error("no API key with id {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] valine_store::StoreError),
}

/// Creates a key named `name` with `scopes` and records it in the audit log with `actor`.
pub async fn create_api_key(
    store: &Store,
    name: &str,
    scopes: &[Scope],
    actor: &str,
) -> Result<CreatedKey, ApiKeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiKeyError::InvalidName);
    }
    let mut scopes: Vec<Scope> = scopes.to_vec();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(ApiKeyError::NoScopes);
    }
    // 256 bits from the OS CSPRNG, base64url.
    let key = format!("{KEY_PREFIX}{}", random_token());
    let id = valine_store::new_id();
    let joined: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let joined = joined.join(",");
    store
        .insert_api_key(&NewApiKey {
            id: &id,
            name,
            key_hash: &hash_token(&key),
            scopes: &joined,
            now: valine_store::now_ms(),
        })
        .await?;
    super::audit(
        store,
        actor,
        "api_key_created",
        serde_json::json!({"keyId": id, "name": name, "scopes": joined}),
    )
    .await;
    Ok(CreatedKey {
        id,
        name: name.to_string(),
        scopes,
        key,
    })
}

pub async fn list_api_keys(store: &Store) -> Result<Vec<ApiKeyRow>, ApiKeyError> {
    Ok(store.list_api_keys().await?)
}

/// Revokes key `id`; revoking twice is not an error (`Revoked::Already`).
pub async fn revoke_api_key(store: &Store, id: &str, actor: &str) -> Result<Revoked, ApiKeyError> {
    let revoked = match store.revoke_api_key(id, valine_store::now_ms()).await {
        Err(valine_store::StoreError::NotFound) => {
            return Err(ApiKeyError::NotFound(id.to_string()));
        }
        other => other?,
    };
    if revoked == Revoked::Now {
        super::audit(
            store,
            actor,
            "api_key_revoked",
            serde_json::json!({"keyId": id}),
        )
        .await;
    }
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_all_grants_everything() {
        for s in Scope::EVERY {
            assert_eq!(s.as_str().parse::<Scope>(), Ok(s));
        }
        assert!("admin".parse::<Scope>().is_err());
        assert!(grants(&[Scope::All], Scope::TestsWrite));
        assert!(grants(&[Scope::TestsWrite], Scope::TestsWrite));
        assert!(!grants(&[Scope::PrIntelWrite], Scope::PrIntelRead));
        assert_eq!(
            parse_stored("tests:read,bogus,all"),
            vec![Scope::TestsRead, Scope::All]
        );
    }
}
