//! Account security: the domain logic behind `/auth/*`. Routes adapt it to HTTP; the store
//! persists it.

pub mod cookies;
pub mod csrf;
pub mod events;
pub mod keys;
pub mod password;
pub mod secretbox;
pub mod sessions;
pub mod tokens;
pub mod totp;
pub mod two_factor;
pub mod validate;
pub mod verification;

/// Constant-time equality for secrets of any length (length itself is not secret here).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A token shortened for logs: first 8 + `…` + last 4 characters (SPEC §2).
pub fn mask_token(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() <= 12 {
        return "…".to_string();
    }
    let head: String = chars.iter().take(8).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn masking_keeps_only_the_ends() {
        let t = "abcdefghijklmnopqrstuvwxyz0123456789";
        assert_eq!(super::mask_token(t), "abcdefgh…6789");
        assert_eq!(super::mask_token("short"), "…");
    }

    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(super::ct_eq(b"abc", b"abc"));
        assert!(!super::ct_eq(b"abc", b"abd"));
        assert!(!super::ct_eq(b"abc", b"abcd"));
    }
}
