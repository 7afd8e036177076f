//! Signed media URLs. The signature is the authority for the two routes that carry no
//! session: the upload `PUT` and the file `GET`.
//!
//! `sig = hex(HMAC-SHA256(upload key, purpose ‖ 0 ‖ media id ‖ 0 ‖ expires [‖ 0 ‖ size ‖ 0 ‖
//! content type]))`. The upload key is derived from `JWT_SECRET` (so every instance accepts
//! every other's URLs); the purpose label keeps a view URL from ever authorising an upload;
//! the NUL separators keep fields from sliding into one another. `expires` is Unix seconds.

use crate::auth::keys::hmac_sha256;

const PUT: &[u8] = b"valine-media-put-v1";
const GET: &[u8] = b"valine-media-get-v1";

/// The signature of an upload URL, bound to the declared size and content type.
pub fn upload_signature(
    key: &[u8],
    media_id: &str,
    expires: i64,
    size: i64,
    content_type: &str,
) -> String {
    let expires = expires.to_string();
    let size = size.to_string();
    hex::encode(hmac_sha256(
        key,
        &[
            PUT,
            b"\0",
            media_id.as_bytes(),
            b"\0",
            expires.as_bytes(),
            b"\0",
            size.as_bytes(),
            b"\0",
            content_type.as_bytes(),
        ],
    ))
}

/// The signature of a view (download) URL.
pub fn view_signature(key: &[u8], media_id: &str, expires: i64) -> String {
    let expires = expires.to_string();
    hex::encode(hmac_sha256(
        key,
        &[GET, b"\0", media_id.as_bytes(), b"\0", expires.as_bytes()],
    ))
}

/// Why a signed URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing, malformed or wrong signature (or expiry that was tampered with).
    Invalid,
    /// A genuine signature whose time has passed.
    Expired,
}

/// Checks a presented `(expires, sig)` pair against the expected signature, in constant
/// time, then the expiry (so an expired URL is only reported as such when it is genuine).
pub fn check(
    expected: &str,
    presented_sig: Option<&str>,
    expires: i64,
    now_secs: i64,
) -> Result<(), Refusal> {
    let sig = presented_sig.ok_or(Refusal::Invalid)?;
    if !crate::auth::ct_eq(expected.as_bytes(), sig.as_bytes()) {
        return Err(Refusal::Invalid);
    }
    if now_secs > expires {
        return Err(Refusal::Expired);
    }
    Ok(())
}

/// Parses the `expires` query value; anything but a plain non-negative integer is refused.
pub fn parse_expires(raw: Option<&str>) -> Option<i64> {
    let raw = raw?;
    if raw.is_empty() || raw.len() > 12 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_every_field_and_the_purpose() {
        let k = b"key";
        let base = upload_signature(k, "m1", 100, 5, "image/png");
        assert_ne!(base, upload_signature(k, "m2", 100, 5, "image/png"));
        assert_ne!(base, upload_signature(k, "m1", 101, 5, "image/png"));
        assert_ne!(base, upload_signature(k, "m1", 100, 6, "image/png"));
        assert_ne!(base, upload_signature(k, "m1", 100, 5, "image/gif"));
        assert_ne!(base, upload_signature(b"other", "m1", 100, 5, "image/png"));
        assert_ne!(view_signature(k, "m1", 100), base);
        assert_eq!(base.len(), 64);
    }

    #[test]
    fn check_orders_signature_before_expiry() {
        let good = view_signature(b"k", "m", 100);
        assert_eq!(check(&good, Some(&good), 100, 100), Ok(()));
        assert_eq!(check(&good, Some(&good), 100, 101), Err(Refusal::Expired));
        assert_eq!(check(&good, Some("00"), 100, 101), Err(Refusal::Invalid));
        assert_eq!(check(&good, None, 100, 0), Err(Refusal::Invalid));
    }

    #[test]
    fn expires_must_be_a_plain_number() {
        assert_eq!(parse_expires(Some("1700000000")), Some(1_700_000_000));
        for bad in ["", "-1", "+5", "1e9", "12345678901234", " 1"] {
            assert_eq!(parse_expires(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(parse_expires(None), None);
    }
}
