//! Signed double-submit CSRF tokens bound to a session (SPEC §6): `nonce.mac` where
//! `mac = HMAC(csrf key, session id ‖ nonce)`. Issued here; enforced by the CSRF layer.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::auth::keys::hmac_sha256;

pub fn issue(key: &[u8], session_id: &str) -> String {
    let mut nonce = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
    let nonce = URL_SAFE_NO_PAD.encode(nonce);
    let mac = URL_SAFE_NO_PAD.encode(hmac_sha256(
        key,
        &[session_id.as_bytes(), b"|", nonce.as_bytes()],
    ));
    format!("{nonce}.{mac}")
}

/// True when `token` was issued for `session_id` with `key` (constant-time MAC check).
pub fn valid_for_session(key: &[u8], session_id: &str, token: &str) -> bool {
    let Some((nonce, mac)) = token.split_once('.') else {
        return false;
    };
    let Ok(mac) = URL_SAFE_NO_PAD.decode(mac) else {
        return false;
    };
    let expected = hmac_sha256(key, &[session_id.as_bytes(), b"|", nonce.as_bytes()]);
    crate::auth::ct_eq(&mac, &expected)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bound_to_session_and_key() {
        let t = super::issue(b"k1", "s1");
        assert!(super::valid_for_session(b"k1", "s1", &t));
        assert!(!super::valid_for_session(b"k1", "s2", &t));
        assert!(!super::valid_for_session(b"k2", "s1", &t));
        assert!(!super::valid_for_session(b"k1", "s1", "garbage"));
        assert!(!super::valid_for_session(b"k1", "s1", ""));
        assert_ne!(super::issue(b"k1", "s1"), t, "fresh nonce each time");
    }
}
