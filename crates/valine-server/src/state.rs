//! Shared application state handed to every handler.

use std::sync::Arc;

use valine_store::Store;

use crate::auth::keys::Keys;
use crate::auth::password::Hasher;
use crate::auth::tokens::AccessTokens;
use crate::config::Settings;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// The OpenAPI document, serialised once at start.
    pub openapi_json: Arc<String>,
    pub auth: Arc<AuthContext>,
    /// Wakes the mail worker when a message is queued.
    pub mail_notify: Arc<tokio::sync::Notify>,
    pub limiter: crate::ratelimit::Limiter,
    /// The shared Redis, when configured (rate limits; `/ready` pings it).
    pub redis: Option<Arc<crate::ratelimit::redis_store::RedisStore>>,
}

/// Keys, token codecs and the password hasher, built once from settings.
pub struct AuthContext {
    pub keys: Keys,
    pub access: AccessTokens,
    pub hasher: Hasher,
    pub secrets: crate::auth::secretbox::SecretBox,
}

impl AuthContext {
    pub fn new(settings: &Settings) -> anyhow::Result<AuthContext> {
        let keys = Keys::derive(&settings.jwt_secret);
        let access = AccessTokens::new(&keys.jwt, settings.access_token_ttl.as_secs());
        let hasher = Hasher::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.password_hash_concurrency,
        )?;
        let old: Vec<Vec<u8>> = settings
            .data_encryption_old_keys
            .iter()
            .map(|k| k.expose().to_vec())
            .collect();
        let secrets =
            crate::auth::secretbox::SecretBox::new(settings.data_encryption_key.expose(), &old);
        Ok(AuthContext {
            keys,
            access,
            hasher,
            secrets,
        })
    }
}
