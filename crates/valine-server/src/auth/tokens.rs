//! Token codecs: HS256 access JWTs (algorithm pinned) and opaque random tokens stored only
//! as SHA-256 hashes (refresh tokens, verification and reset tokens, challenges).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "valine";
pub const AUDIENCE: &str = "valine-api";
const ACCESS: &str = "access";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    pub sid: String,
    pub typ: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl AccessTokens {
    pub fn new(key: &[u8], ttl_secs: u64) -> AccessTokens {
        // Only HS256 is accepted: `alg: none`, RS256-with-HMAC-key confusion and every
        // other algorithm fail validation before the signature is even considered.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = 5;
        validation.validate_exp = true;
        AccessTokens {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(900),
        }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Issues an access token for session `sid` of user `sub`; returns it with its expiry.
    pub fn issue(&self, sub: &str, sid: &str, now_secs: i64) -> anyhow::Result<(String, i64)> {
        let claims = AccessClaims {
            sub: sub.to_string(),
            sid: sid.to_string(),
            typ: ACCESS.to_string(),
            iat: now_secs,
            exp: now_secs + self.ttl_secs,
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims.exp))
    }

    /// The session of a correctly signed access token even if it has expired (CSRF checks
    /// need the session of a browser whose access token just ran out).
    pub fn session_id_ignoring_expiry(&self, token: &str) -> Option<String> {
        let mut validation = self.validation.clone();
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["sub", "iss", "aud"]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == ACCESS).then_some(data.claims.sid)
    }

    /// Verifies signature, algorithm, issuer, audience, expiry and type.
    pub fn verify(&self, token: &str) -> Option<AccessClaims> {
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).ok()?;
        (data.claims.typ == ACCESS).then_some(data.claims)
    }
}

/// A new opaque token: 256 bits from the OS CSPRNG, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of an opaque token.
pub fn hash_token(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tokens() -> AccessTokens {
        AccessTokens::new(b"0123456789abcdef0123456789abcdef", 900)
    }

    fn now() -> i64 {
        valine_store::now_ms() / 1000
    }

    #[test]
    fn round_trip() {
        let t = tokens();
        let (tok, exp) = t.issue("user-1", "sess-1", now()).unwrap();
        let c = t.verify(&tok).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.sid.as_str(), c.typ.as_str()),
            ("user-1", "sess-1", "access")
        );
        assert_eq!(c.exp, exp);
        assert_eq!(c.iss, ISSUER);
        assert_eq!(c.aud, AUDIENCE);
    }

    #[test]
    fn expired_wrong_key_and_alg_none_are_rejected() {
        let t = tokens();
        let (old, _) = t.issue("u", "s", now() - 10_000).unwrap();
        assert!(t.verify(&old).is_none(), "expired");
        let other = AccessTokens::new(b"another-key-another-key-another-k", 900);
        let (foreign, _) = other.issue("u", "s", now()).unwrap();
        assert!(t.verify(&foreign).is_none(), "wrong key");
        // alg: none with the same claims.
        let (good, _) = t.issue("u", "s", now()).unwrap();
        let payload = good.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(t.verify(&format!("{header}.{payload}.")).is_none());
        assert!(t.verify(&format!("{header}.{payload}")).is_none());
        // HS512 signed with the same key is still refused: the algorithm is pinned.
        let claims = t.verify(&good).unwrap();
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert!(t.verify(&hs512).is_none());
    }

    #[test]
    fn refresh_typed_claims_are_not_access_tokens() {
        let t = tokens();
        let mut claims = t.verify(&t.issue("u", "s", now()).unwrap().0).unwrap();
        claims.typ = "refresh".into();
        let tok = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert!(t.verify(&tok).is_none());
    }

    #[test]
    fn opaque_tokens_are_256_bit_and_hashed() {
        let a = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, random_token());
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }

    proptest! {
        /// Flipping any character of a valid token makes it invalid.
        #[test]
        fn tampered_tokens_are_rejected(pos in 0usize..400, replacement in "[A-Za-z0-9_.-]") {
            let t = tokens();
            let (tok, _) = t.issue("user", "session", now()).unwrap();
            let mut chars: Vec<char> = tok.chars().collect();
            let i = pos % chars.len();
            let r = replacement.chars().next().unwrap();
            prop_assume!(chars[i] != r);
            chars[i] = r;
            let tampered: String = chars.into_iter().collect();
            // A base64 change in the last char's padding bits may decode to the same
            // bytes; then the token is byte-identical and acceptance is correct.
            if let Some(c) = t.verify(&tampered) {
                prop_assert_eq!(c.sub, "user");
                let orig = tok.split('.').map(|p| URL_SAFE_NO_PAD.decode(p).ok()).collect::<Vec<_>>();
                let new = tampered.split('.').map(|p| URL_SAFE_NO_PAD.decode(p).ok()).collect::<Vec<_>>();
                prop_assert_eq!(orig, new);
            }
        }

        /// Arbitrary strings never verify and never panic.
        #[test]
        fn garbage_never_verifies(s in ".{0,200}") {
            prop_assert!(tokens().verify(&s).is_none());
        }
    }
}
