//! Wire shapes shared by several resources.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use valine_store::users::UserRow;

use crate::error::{ApiError, ApiResult};
use crate::timefmt::{iso, iso_opt};

/// A user as clients see it: never a hash or a secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    pub role: String,
    pub email_verified: bool,
    pub email_verified_at: Option<String>,
    pub two_factor_enabled: bool,
    pub created_at: String,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> Self {
        UserView {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            avatar: u.avatar.clone(),
            bio: u.bio.clone(),
            role: u.role.clone(),
            email_verified: u.email_verified(),
            email_verified_at: iso_opt(u.email_verified_at),
            two_factor_enabled: u.two_factor_enabled(),
            created_at: iso(u.created_at),
        }
    }
}

/// `{message}` responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

impl Message {
    pub fn new(m: impl Into<String>) -> Message {
        Message { message: m.into() }
    }
}

/// `limit` and `cursor` query parameters (SPEC §2 pagination).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 20.
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page's `nextCursor`.
    pub cursor: Option<String>,
}

/// Validates `limit` (1–100, default 20) and decodes `cursor`.
pub fn page_params(limit: Option<u32>, cursor: Option<&str>) -> ApiResult<(i64, Option<String>)> {
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            "limit must be between 1 and 100",
        ));
    }
    let cursor = match cursor {
        None | Some("") => None,
        Some(c) => Some(
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::validation("cursor", "cursor is not valid"))?,
        ),
    };
    Ok((i64::from(limit), cursor))
}

pub fn encode_cursor(raw: &str) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}
