//! Secrets at rest (TOTP seeds): ChaCha20-Poly1305 with `DATA_ENCRYPTION_KEY`.
//!
//! Stored form: `v1.<key id>.<nonce b64>.<ciphertext b64>`. The key id (first 8 hex digits
//! of SHA-256 of the key) lets a deployment rotate keys: put the old key in
//! `DATA_ENCRYPTION_OLD_KEYS`, and values sealed with it still open while new values use
//! the current key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct SecretBox {
    current: (String, Vec<u8>),
    old: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBox(key id {})", self.current.0)
    }
}

fn key_id(key: &[u8]) -> String {
    hex::encode(Sha256::digest(key)).chars().take(8).collect()
}

impl SecretBox {
    pub fn new(current: &[u8], old: &[Vec<u8>]) -> SecretBox {
        SecretBox {
            current: (key_id(current), current.to_vec()),
            old: old.iter().map(|k| (key_id(k), k.clone())).collect(),
        }
    }

    /// Encrypts `plaintext`; `context` (e.g. the user id) is bound as associated data so
    /// a sealed value copied to another row does not open.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> anyhow::Result<String> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.current.1));
        let mut nonce = [0u8; 12];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        Ok(format!(
            "v1.{}.{}.{}",
            self.current.0,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ct)
        ))
    }

    pub fn open(&self, sealed: &str, context: &str) -> anyhow::Result<Vec<u8>> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(kid), Some(nonce), Some(ct), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            anyhow::bail!("sealed value has an unknown format");
        };
        let key = std::iter::once(&self.current)
            .chain(self.old.iter())
            .find(|(id, _)| id == kid)
            .map(|(_, k)| k)
            .ok_or_else(|| anyhow::anyhow!("sealed with unknown key id {kid}"))?;
        let nonce = URL_SAFE_NO_PAD.decode(nonce)?;
        let ct = URL_SAFE_NO_PAD.decode(ct)?;
        if nonce.len() != 12 {
            anyhow::bail!("bad nonce");
        }
        ChaCha20Poly1305::new(Key::from_slice(key))
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("decryption failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_bind_and_rotate() {
        let old_key = vec![7u8; 32];
        let new_key = vec![9u8; 32];
        let old = SecretBox::new(&old_key, &[]);
        let sealed = old.seal(b"JBSWY3DPEHPK3PXP", "user-1").unwrap();
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(old.open(&sealed, "user-1").unwrap(), b"JBSWY3DPEHPK3PXP");
        assert!(old.open(&sealed, "user-2").is_err(), "bound to its row");
        // After rotation the old value still opens; new values use the new key.
        let rotated = SecretBox::new(&new_key, std::slice::from_ref(&old_key));
        assert_eq!(
            rotated.open(&sealed, "user-1").unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
        let resealed = rotated.seal(b"x", "u").unwrap();
        assert!(old.open(&resealed, "u").is_err());
        assert!(
            SecretBox::new(&new_key, &[])
                .open(&sealed, "user-1")
                .is_err()
        );
        // Tampering fails.
        let mut t = sealed.clone();
        t.pop();
        t.push('A');
        assert!(old.open(&t, "user-1").is_err() || t == sealed);
        assert!(old.open("garbage", "user-1").is_err());
    }
}
