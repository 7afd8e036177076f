//! Wire shapes shared by several resources.

use serde::Serialize;
use utoipa::ToSchema;
use valine_store::users::UserRow;

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
