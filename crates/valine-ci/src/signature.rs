//! GitHub webhook signatures: `X-Hub-Signature-256: sha256=<hex>` over the raw body.
//!
//! The comparison is constant-time (`hmac`'s `verify_slice`, built on `subtle`), so the
//! time taken does not reveal how many leading bytes of a forged signature were right.
//! Nothing here panics, whatever the header holds.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header GitHub signs deliveries with.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";
/// A SHA-256 digest is 32 bytes, 64 hex digits.
const HEX_LEN: usize = 64;

/// Why a delivery's signature was refused. All map to 403 `INVALID_SIGNATURE`; the
/// variants exist for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No header, or an empty one.
    #[error("signature header is missing")]
    Missing,
    /// Not `sha256=` followed by 64 hex digits (e.g. `sha1=…`, `sha256=invalid`).
    #[error("signature header is malformed: {0}")]
    Malformed(&'static str),
    /// Well-formed, but not the HMAC of this body under this secret.
    #[error("signature does not match the payload")]
    Mismatch,
    /// The server has no secret configured: an empty key would let anyone sign.
    #[error("no webhook secret is configured")]
    NoSecret,
}

/// Checks `header` (the value of `X-Hub-Signature-256`) against `body` under `secret`.
pub fn verify_github_signature(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let value = header.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(SignatureError::Missing);
    }
    let Some(hex_digest) = value.strip_prefix(PREFIX) else {
        return Err(SignatureError::Malformed("expected the sha256= prefix"));
    };
    if hex_digest.len() != HEX_LEN {
        return Err(SignatureError::Malformed(
            "expected 64 hexadecimal digits after sha256=",
        ));
    }
    let expected = hex::decode(hex_digest)
        .map_err(|_| SignatureError::Malformed("signature is not hexadecimal"))?;
    // HMAC takes keys of any length, so this cannot fail; mapping the impossible error to
    // a refusal keeps the function total without a panic path.
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| SignatureError::NoSecret)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header value GitHub would send for `body` (for tests, CLIs and replaying).
pub fn sign_github(secret: &[u8], body: &[u8]) -> String {
    let digest = match HmacSha256::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    };
    format!("{PREFIX}{}", hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"It's a Secret to Everybody";
    const BODY: &[u8] = b"Hello, World!";
    const GOOD: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn github_documented_vector_verifies() {
        assert_eq!(verify_github_signature(SECRET, BODY, Some(GOOD)), Ok(()));
        assert_eq!(sign_github(SECRET, BODY), GOOD);
        // Hex case does not matter, surrounding whitespace is tolerated.
        let upper = format!(
            " sha256={} ",
            GOOD.trim_start_matches(PREFIX).to_uppercase()
        );
        assert_eq!(verify_github_signature(SECRET, BODY, Some(&upper)), Ok(()));
    }

    #[test]
    fn refusals() {
        let wrong_digit = format!("{}0", &GOOD[..GOOD.len() - 1]);
        let cases: Vec<(Option<&str>, SignatureError)> = vec![
            (None, SignatureError::Missing),
            (Some(""), SignatureError::Missing),
            (Some("   "), SignatureError::Missing),
            (
                Some("sha256="),
                SignatureError::Malformed("expected 64 hexadecimal digits after sha256="),
            ),
            (
                Some("sha256=invalid"),
                SignatureError::Malformed("expected 64 hexadecimal digits after sha256="),
            ),
            (
                Some("sha256=abcd"),
                SignatureError::Malformed("expected 64 hexadecimal digits after sha256="),
            ),
            (
                Some(&GOOD[..GOOD.len() - 2]),
                SignatureError::Malformed("expected 64 hexadecimal digits after sha256="),
            ),
            (
                Some("sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"),
                SignatureError::Malformed("expected the sha256= prefix"),
            ),
            (
                Some("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
                SignatureError::Malformed("expected the sha256= prefix"),
            ),
            (
                Some("SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
                SignatureError::Malformed("expected the sha256= prefix"),
            ),
            (
                Some("sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
                SignatureError::Malformed("signature is not hexadecimal"),
            ),
            (
                Some("sha256=é57107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1"),
                SignatureError::Malformed("signature is not hexadecimal"),
            ),
            (Some(&wrong_digit), SignatureError::Mismatch),
        ];
        for (header, want) in cases {
            assert_eq!(
                verify_github_signature(SECRET, BODY, header),
                Err(want),
                "{header:?}"
            );
        }
        assert_eq!(
            verify_github_signature(SECRET, b"Hello, World?", Some(GOOD)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_github_signature(b"other", BODY, Some(GOOD)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_github_signature(b"", BODY, Some(GOOD)),
            Err(SignatureError::NoSecret)
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(secret in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
                        body in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
                        header in proptest::option::of(".{0,90}")) {
            let _ = verify_github_signature(&secret, &body, header.as_deref());
        }

        #[test]
        fn signed_bodies_verify(secret in proptest::collection::vec(proptest::num::u8::ANY, 1..80),
                                body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let header = sign_github(&secret, &body);
            proptest::prop_assert_eq!(verify_github_signature(&secret, &body, Some(&header)), Ok(()));
        }
    }
}
