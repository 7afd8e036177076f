//! Purpose-bound keys derived from `JWT_SECRET`, so instances that share it accept each
//! other's tokens, and a key leaked for one purpose (say CSRF) signs nothing else.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Keys {
    /// HS256 key for access tokens: `JWT_SECRET` itself, so other services holding the
    /// secret can verify Valine's tokens.
    pub jwt: Vec<u8>,
    pub csrf: Vec<u8>,
    pub upload: Vec<u8>,
    pub challenge: Vec<u8>,
    pub backup: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    pub fn derive(jwt_secret: &Secret) -> Keys {
        let root = jwt_secret.expose();
        Keys {
            jwt: root.to_vec(),
            csrf: derive(root, b"valine/csrf/v1"),
            upload: derive(root, b"valine/upload/v1"),
            challenge: derive(root, b"valine/2fa-challenge/v1"),
            backup: derive(root, b"valine/backup-code/v1"),
        }
    }
}

fn derive(root: &[u8], label: &[u8]) -> Vec<u8> {
    hmac_sha256(root, &[label])
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty MAC
    // rather than panic if the library ever says otherwise.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            for p in parts {
                mac.update(p);
            }
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}
