//! RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits), written out so verification can
//! report *which* step matched: replay protection stores the last accepted step.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Accepted clock drift, in steps, either side of now.
pub const WINDOW: i64 = 1;

/// RFC 4226 HOTP value of `counter`, as a zero-padded string of `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // Dynamic truncation (RFC 4226 §5.3).
    let offset = usize::from(digest.last().copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .map(|b| {
            (u32::from(b[0] & 0x7f) << 24)
                | (u32::from(b[1]) << 16)
                | (u32::from(b[2]) << 8)
                | u32::from(b[3])
        })
        .unwrap_or(0);
    let modulus = 10u32.pow(digits);
    format!("{:0width$}", word % modulus, width = digits as usize)
}

/// The time step of a Unix time.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The step within ±`WINDOW` of `unix_secs` whose code equals `code`, if any. Every
/// candidate is compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_secs);
    let mut found = None;
    for step in (now - WINDOW)..=(now + WINDOW) {
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        if crate::auth::ct_eq(hotp(secret, counter, DIGITS).as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URL authenticator apps import.
pub fn otpauth_url(issuer: &str, account: &str, secret_b32: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={}&period={}",
        enc(issuer),
        enc(account),
        secret_b32,
        enc(issuer),
        DIGITS,
        STEP_SECS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (8 digits, secret "12345678901234567890").
    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let counter = u64::try_from(step_at(time)).unwrap();
            assert_eq!(hotp(secret, counter, 8), expected, "T={time}");
        }
    }

    #[test]
    fn window_is_plus_minus_one_step() {
        let secret = b"12345678901234567890";
        let t = 1_700_000_000;
        let now = step_at(t);
        for delta in [-1i64, 0, 1] {
            let code = hotp(secret, u64::try_from(now + delta).unwrap(), 6);
            assert_eq!(matching_step(secret, &code, t), Some(now + delta));
        }
        for delta in [-2i64, 2] {
            let code = hotp(secret, u64::try_from(now + delta).unwrap(), 6);
            assert_eq!(matching_step(secret, &code, t), None, "delta {delta}");
        }
        assert_eq!(matching_step(secret, "12345", t), None);
        assert_eq!(matching_step(secret, "abcdef", t), None);
    }

    #[test]
    fn otpauth_url_is_importable() {
        let url = otpauth_url("Valine", "a@b.co", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            url,
            "otpauth://totp/Valine:a%40b.co?secret=JBSWY3DPEHPK3PXP&issuer=Valine&algorithm=SHA1&digits=6&period=30"
        );
    }
}
