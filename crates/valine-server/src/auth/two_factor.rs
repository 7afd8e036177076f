//! Two-factor authentication hooks used by other flows.

use valine_store::users::UserRow;

use crate::auth::sessions::ClientInfo;
use crate::error::ApiError;
use crate::state::AppState;

/// Flows that must not bypass 2FA (password reset, account deletion) call this: with 2FA
/// on, a valid TOTP or backup code is required.
pub async fn require_code_if_enabled(
    state: &AppState,
    user: &UserRow,
    code: Option<&str>,
    _client: &ClientInfo,
) -> Result<(), ApiError> {
    if !state.settings.two_factor_enabled || !user.two_factor_enabled() {
        return Ok(());
    }
    // TOTP verification lands with the 2FA issue; until then an enabled account cannot
    // pass this check, which fails closed.
    let _ = code;
    Err(ApiError::InvalidTwoFactorCode)
}
