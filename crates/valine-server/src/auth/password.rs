//! Password hashing: Argon2id PHC strings, on the blocking pool with bounded concurrency so
//! a login flood queues here instead of starving every other request.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::auth::validate::Password;
use crate::error::ApiError;

#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the user does not exist so
    /// that "unknown user" costs the same time as "wrong password".
    dummy: Arc<String>,
}

/// The outcome of checking a password.
pub struct Verified {
    pub ok: bool,
    /// The stored hash uses other parameters than the current ones: rehash on success.
    pub needs_rehash: bool,
}

impl Hasher {
    pub fn new(memory_kib: u32, iterations: u32, concurrency: usize) -> anyhow::Result<Hasher> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let mut random = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
        let dummy = argon(&params)
            .hash_password(hex::encode(random).as_bytes())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .to_string();
        Ok(Hasher {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: Arc::new(dummy),
        })
    }

    /// Hashes a password to a PHC string.
    pub async fn hash(&self, password: &Password) -> Result<String, ApiError> {
        let params = self.params.clone();
        let pw = password.expose().to_string();
        self.blocking(move || {
            argon(&params)
                .hash_password(pw.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))
        })
        .await
    }

    /// Checks `password` against a stored PHC string.
    pub async fn verify(&self, password: &str, stored: &str) -> Result<Verified, ApiError> {
        let params = self.params.clone();
        let pw = password.to_string();
        let stored = stored.to_string();
        self.blocking(move || {
            let parsed = match PasswordHash::new(&stored) {
                Ok(p) => p,
                // A corrupt stored hash never matches; it is not the client's fault either,
                // so it is logged, not reported.
                Err(e) => {
                    tracing::error!(error = %e, "stored password hash does not parse");
                    return Ok(Verified {
                        ok: false,
                        needs_rehash: false,
                    });
                }
            };
            let ok = argon(&params)
                .verify_password(pw.as_bytes(), &parsed)
                .is_ok();
            let needs_rehash = parsed.algorithm.as_str() != "argon2id"
                || Params::try_from(&parsed)
                    .map(|p| {
                        p.m_cost() != params.m_cost()
                            || p.t_cost() != params.t_cost()
                            || p.p_cost() != params.p_cost()
                    })
                    .unwrap_or(true);
            Ok(Verified { ok, needs_rehash })
        })
        .await
    }

    /// Spends the time of one verification and always fails (unknown account).
    pub async fn verify_dummy(&self, password: &str) -> Result<(), ApiError> {
        let dummy = self.dummy.as_str().to_string();
        self.verify(password, &dummy).await.map(|_| ())
    }

    async fn blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("hash pool closed: {e}")))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("hash task failed: {e}")))?
            .map_err(ApiError::internal)
    }
}

fn argon(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_detect_parameter_changes() {
        let h = Hasher::new(64, 1, 2).unwrap();
        let pw = Password::parse_unchecked("correct horse battery");
        let phc = h.hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        let v = h.verify("correct horse battery", &phc).await.unwrap();
        assert!(v.ok && !v.needs_rehash);
        assert!(!h.verify("wrong", &phc).await.unwrap().ok);
        let stronger = Hasher::new(128, 2, 2).unwrap();
        let v = stronger
            .verify("correct horse battery", &phc)
            .await
            .unwrap();
        assert!(v.ok && v.needs_rehash);
        assert!(!h.verify("x", "not a phc string").await.unwrap().ok);
        h.verify_dummy("anything").await.unwrap();
    }
}
