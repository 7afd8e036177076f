//! `/auth/*`: registration, login, tokens, sessions, password change, the audit trail.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use valine_store::StoreError;
use valine_store::users::{NewUser, UserRow};

use crate::auth::events::{self, EventType};
use crate::auth::sessions::{self as auth_sessions, ClientInfo, IssuedSession};
use crate::auth::validate::{DisplayName, EmailAddress, Password, Username};
use crate::auth::{cookies, csrf};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::auth::AuthUser;
use crate::http::extract::{ValidJson, ValidQuery};
use crate::routes::views::{Message, PageQuery, UserView, encode_cursor, page_params};
use crate::state::AppState;
use crate::timefmt::iso;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(me))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(list_sessions))
        .routes(routes!(logout_session))
        .routes(routes!(logout_all))
        .routes(routes!(change_password))
        .routes(routes!(security_events))
        .routes(routes!(csrf_token))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
#[derive(Default)]
pub struct RegisterRequest {
    email: String,
    password: String,
    username: String,
    display_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterResponse {
    user: UserView,
    message: String,
    access_token: String,
    expires_in: i64,
}

const DUPLICATE: &str = "An account with this email or username already exists";

/// Creates an account and logs it in. A verification email is queued.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = RegisterResponse),
              (status = 400, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    client: ClientInfo,
    ValidJson(req): ValidJson<RegisterRequest>,
) -> ApiResult<Response> {
    let mut errors = FieldErrors::new();
    let email = EmailAddress::parse(&req.email)
        .map_err(|e| errors.insert("email".into(), e))
        .ok();
    let username = Username::parse(&req.username)
        .map_err(|e| errors.insert("username".into(), e))
        .ok();
    let display_name = DisplayName::parse(&req.display_name)
        .map_err(|e| errors.insert("displayName".into(), e))
        .ok();
    let password = Password::parse(&req.password, Some(&req.email), Some(&req.username))
        .map_err(|e| errors.insert("password".into(), e))
        .ok();
    let (Some(email), Some(username), Some(display_name), Some(password)) =
        (email, username, display_name, password)
    else {
        return Err(ApiError::fields(errors));
    };

    let hash = state.auth.hasher.hash(&password).await?;
    let now = valine_store::now_ms();
    let id = valine_store::new_id();
    let mut tx = state.store.begin_write().await?;
    let inserted = state
        .store
        .insert_user(
            &mut tx,
            &NewUser {
                id: &id,
                username: &username.display,
                normalized_username: &username.normalized,
                email: &email.display,
                normalized_email: &email.normalized,
                password_hash: &hash,
                display_name: &display_name.0,
                role: "user",
                now,
            },
        )
        .await;
    match inserted {
        Err(StoreError::Conflict { .. }) => return Err(ApiError::Conflict(DUPLICATE.into())),
        other => other?,
    }
    let user = UserRow {
        id: id.clone(),
        username: username.display,
        email: email.display,
        normalized_email: email.normalized,
        password_hash: hash,
        display_name: display_name.0,
        bio: None,
        avatar: None,
        role: "user".into(),
        email_verified_at: None,
        two_factor_enabled_at: None,
        created_at: now,
        updated_at: now,
    };
    let issued = auth_sessions::start_in_tx(&state, &mut tx, &user, &client, now).await?;
    events::record_tx(
        &state,
        &mut tx,
        Some(&user.id),
        EventType::LoginSucceeded,
        &client,
        serde_json::json!({ "sessionId": issued.session_id, "method": "register" }),
    )
    .await?;
    crate::auth::verification::queue_verification_tx(
        &state,
        &mut tx,
        &user,
        valine_store::email_tokens::VerificationSource::Registration,
        now,
    )
    .await?;
    valine_store::commit(tx).await?;
    state.mail_notify.notify_one();
    state.metrics.auth_event(EventType::LoginSucceeded);
    tracing::info!(user_id = %user.id, "account registered");

    let mut headers = HeaderMap::new();
    issued.set_cookies(&mut headers, &state);
    let body = RegisterResponse {
        user: UserView::from(&user),
        message: "Registration successful. Please check your email to verify your account.".into(),
        access_token: issued.access_token.clone(),
        expires_in: issued.access_expires_in,
    };
    Ok((StatusCode::CREATED, headers, Json(body)).into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LoginRequest {
    /// Email address or username.
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    user: UserView,
    requires_two_factor: bool,
    access_token: String,
    expires_in: i64,
}

/// Logs in with email (or username) and password. Unknown account and wrong password are
/// indistinguishable, including in timing.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse,
               description = "Logged in; or, for a 2FA account, a `TwoFactorChallenge`"),
              (status = 401, body = crate::error::ErrorBody)),
    )]
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    ValidJson(req): ValidJson<LoginRequest>,
) -> ApiResult<Response> {
    let login = req.email.trim().to_lowercase();
    if login.is_empty() || req.password.is_empty() || req.password.chars().count() > 1024 {
        return Err(ApiError::InvalidCredentials);
    }
    let user = state.store.user_by_login(&login).await?;
    // Per-account throttle (ASVS V2.2.1), on even when the rate-limit tiers are off: past
    // the limit every attempt for the account is refused, right password or not, until
    // the window passes. Unknown accounts are throttled by the login string alike.
    let account = match &user {
        Some(u) => format!("login-fail:{}", u.id),
        None => format!("login-fail:unknown:{login}"),
    };
    let (short_key, long_key) = (format!("{account}:short"), format!("{account}:long"));
    let s = &state.settings;
    for (key, rule) in [
        (&short_key, s.login_failures_short),
        (&long_key, s.login_failures_long),
    ] {
        if let Some(over) = state.limiter.over(key, rule).await {
            state.metrics.rate_limited("login_account");
            return Ok(crate::http::rate_limit::too_many(over));
        }
    }
    let note_failure = || async {
        state
            .limiter
            .check(&short_key, s.login_failures_short)
            .await;
        state.limiter.check(&long_key, s.login_failures_long).await;
    };
    let Some(user) = user else {
        state.auth.hasher.verify_dummy(&req.password).await?;
        note_failure().await;
        events::record(
            &state,
            None,
            EventType::LoginFailed,
            &client,
            serde_json::json!({ "reason": "unknown_account" }),
        )
        .await?;
        return Err(ApiError::InvalidCredentials);
    };
    let verified = state
        .auth
        .hasher
        .verify(&req.password, &user.password_hash)
        .await?;
    if !verified.ok {
        note_failure().await;
        events::record(
            &state,
            Some(&user.id),
            EventType::LoginFailed,
            &client,
            serde_json::json!({ "reason": "wrong_password" }),
        )
        .await?;
        return Err(ApiError::InvalidCredentials);
    }
    // "Consecutive" failures: a success starts the short window over.
    state.limiter.reset(&short_key).await;
    if verified.needs_rehash {
        let new_hash = state
            .auth
            .hasher
            .hash(&Password::parse_unchecked(&req.password))
            .await?;
        state
            .store
            .update_password_hash(&user.id, &new_hash, valine_store::now_ms())
            .await?;
    }
    if state.settings.two_factor_enabled && user.two_factor_enabled() {
        // The password was right, but it is only the first factor: no session, no cookies.
        let (challenge_token, expires_in) =
            crate::auth::two_factor::start_challenge(&state, &user).await?;
        return Ok(Json(TwoFactorChallenge {
            requires_two_factor: true,
            challenge_token,
            expires_in,
        })
        .into_response());
    }
    let issued = auth_sessions::start(&state, &user, &client, "password").await?;
    Ok(login_response(&state, &user, &issued))
}

/// A 2FA account's login answer: complete it with `POST /auth/2fa/verify`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TwoFactorChallenge {
    requires_two_factor: bool,
    challenge_token: String,
    expires_in: i64,
}

/// The full login response with cookies (also used by 2FA verification).
pub fn login_response(state: &AppState, user: &UserRow, issued: &IssuedSession) -> Response {
    let mut headers = HeaderMap::new();
    issued.set_cookies(&mut headers, state);
    let body = LoginResponse {
        user: UserView::from(user),
        requires_two_factor: false,
        access_token: issued.access_token.clone(),
        expires_in: issued.access_expires_in,
    };
    (StatusCode::OK, headers, Json(body)).into_response()
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    user: UserView,
}

/// The authenticated user.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, body = MeResponse), (status = 401, body = crate::error::ErrorBody)))]
async fn me(auth: AuthUser) -> Json<MeResponse> {
    Json(MeResponse {
        user: UserView::from(&auth.user),
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshResponse {
    message: String,
    access_token: String,
    expires_in: i64,
}

/// Rotates the refresh token (cookie) and issues a new access token. A retired token used
/// again after the grace window revokes the whole session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth",
    responses((status = 200, body = RefreshResponse), (status = 401, body = crate::error::ErrorBody)))]
async fn refresh(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
) -> Response {
    let Some(presented) = cookies::read(&headers, cookies::REFRESH) else {
        return with_cleared_cookies(
            &state,
            ApiError::Unauthorized("Refresh token required".into()),
        );
    };
    match auth_sessions::refresh(&state, &presented, &client).await {
        Ok(issued) => {
            let mut out = HeaderMap::new();
            issued.set_cookies(&mut out, &state);
            let body = RefreshResponse {
                message: "Token refreshed".into(),
                access_token: issued.access_token.clone(),
                expires_in: issued.access_expires_in,
            };
            (StatusCode::OK, out, Json(body)).into_response()
        }
        Err(e) => with_cleared_cookies(&state, e),
    }
}

fn with_cleared_cookies(state: &AppState, err: ApiError) -> Response {
    let mut headers = HeaderMap::new();
    cookies::clear_session(&mut headers, &state.settings);
    (headers, err).into_response()
}

/// Ends the current session and clears cookies. Idempotent: 200 even without a session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 200, body = Message)))]
async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let now = valine_store::now_ms();
    // The session is found from the access token if it is still valid, else from the
    // refresh cookie, so logging out works after the access token expired.
    let mut target: Option<(String, String)> = None;
    let presented = crate::http::auth::access_token_from(&headers);
    if let Some(claims) = presented.and_then(|(t, _)| state.auth.access.verify(&t)) {
        target = Some((claims.sub, claims.sid));
    } else if let Some(rt) = cookies::read(&headers, cookies::REFRESH)
        && let Some(row) = state
            .store
            .refresh_token_by_hash(&crate::auth::tokens::hash_token(&rt))
            .await?
    {
        target = Some((row.user_id, row.session_id));
    }
    if let Some((user_id, session_id)) = target
        && state
            .store
            .revoke_session(&user_id, &session_id, "logout", now)
            .await?
    {
        state.metrics.session_revoked("logout");
        events::record(
            &state,
            Some(&user_id),
            EventType::Logout,
            &client,
            serde_json::json!({ "sessionId": session_id }),
        )
        .await?;
    }
    let mut out = HeaderMap::new();
    cookies::clear_session(&mut out, &state.settings);
    Ok((StatusCode::OK, out, Json(Message::new("Logged out"))).into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    id: String,
    created_at: String,
    last_used_at: String,
    expires_at: String,
    user_agent: Option<String>,
    ip_address: Option<String>,
    is_current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    sessions: Vec<SessionView>,
    total: usize,
}

/// Active sessions of the user, most recently used first.
#[utoipa::path(get, path = "/auth/sessions", tag = "auth",
    responses((status = 200, body = SessionList), (status = 401, body = crate::error::ErrorBody)))]
async fn list_sessions(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<Json<SessionList>> {
    let rows = state
        .store
        .active_sessions(&auth.user.id, valine_store::now_ms())
        .await?;
    let sessions: Vec<SessionView> = rows
        .into_iter()
        .map(|s| SessionView {
            is_current: s.id == auth.session_id,
            id: s.id,
            created_at: iso(s.created_at),
            last_used_at: iso(s.last_used_at),
            expires_at: iso(s.expires_at),
            user_agent: s.user_agent,
            ip_address: s.ip_address,
        })
        .collect();
    Ok(Json(SessionList {
        total: sessions.len(),
        sessions,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutSessionRequest {
    session_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutSessionResponse {
    message: String,
    session_id: String,
}

/// Revokes one of the user's sessions. Another user's or an unknown id is 404.
#[utoipa::path(post, path = "/auth/logout-session", tag = "auth", request_body = LogoutSessionRequest,
    responses((status = 200, body = LogoutSessionResponse), (status = 404, body = crate::error::ErrorBody)))]
async fn logout_session(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ValidJson(req): ValidJson<LogoutSessionRequest>,
) -> ApiResult<Response> {
    let now = valine_store::now_ms();
    if !state
        .store
        .revoke_session(&auth.user.id, &req.session_id, "logout_session", now)
        .await?
    {
        return Err(ApiError::NotFound("Session not found".into()));
    }
    state.metrics.session_revoked("logout_session");
    events::record(
        &state,
        Some(&auth.user.id),
        EventType::SessionRevoked,
        &client,
        serde_json::json!({ "sessionId": req.session_id, "reason": "logout_session" }),
    )
    .await?;
    let mut headers = HeaderMap::new();
    if req.session_id == auth.session_id {
        cookies::clear_session(&mut headers, &state.settings);
    }
    Ok((
        headers,
        Json(LogoutSessionResponse {
            message: "Session revoked".into(),
            session_id: req.session_id,
        }),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LogoutAllRequest {
    include_current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct LogoutAllResponse {
    revoked: usize,
}

/// Revokes every session of the user except the current one (unless `includeCurrent`).
/// An empty body is allowed.
#[utoipa::path(post, path = "/auth/logout-all", tag = "auth", request_body = LogoutAllRequest,
    responses((status = 200, body = LogoutAllResponse)))]
async fn logout_all(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: LogoutAllRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutAllRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::InvalidJson(format!("Malformed JSON: {e}")))?
    };
    let keep = if req.include_current {
        ""
    } else {
        auth.session_id.as_str()
    };
    let now = valine_store::now_ms();
    let revoked = state
        .store
        .revoke_user_sessions(&auth.user.id, keep, "logout_all", now)
        .await?;
    for _ in &revoked {
        state.metrics.session_revoked("logout_all");
    }
    events::record(
        &state,
        Some(&auth.user.id),
        EventType::SessionRevoked,
        &client,
        serde_json::json!({ "reason": "logout_all", "count": revoked.len() }),
    )
    .await?;
    let mut headers = HeaderMap::new();
    if req.include_current {
        cookies::clear_session(&mut headers, &state.settings);
    }
    Ok((
        headers,
        Json(LogoutAllResponse {
            revoked: revoked.len(),
        }),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

/// Changes the password; every other session of the user is revoked.
#[utoipa::path(post, path = "/auth/change-password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 200, body = Message), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ValidJson(req): ValidJson<ChangePasswordRequest>,
) -> ApiResult<Json<Message>> {
    let verified = state
        .auth
        .hasher
        .verify(&req.current_password, &auth.user.password_hash)
        .await?;
    if !verified.ok {
        return Err(ApiError::InvalidCredentials);
    }
    let new = Password::parse(
        &req.new_password,
        Some(&auth.user.email),
        Some(&auth.user.username),
    )
    .map_err(|e| ApiError::validation("newPassword", e))?;
    if new.expose() == req.current_password {
        return Err(ApiError::validation(
            "newPassword",
            "New password must differ from the current one",
        ));
    }
    let hash = state.auth.hasher.hash(&new).await?;
    let now = valine_store::now_ms();
    let mut tx = state.store.begin_write().await?;
    state
        .store
        .set_password_hash_tx(&mut tx, &auth.user.id, &hash, now)
        .await?;
    let revoked = state
        .store
        .revoke_user_sessions_tx(
            &mut tx,
            &auth.user.id,
            &auth.session_id,
            "password_changed",
            now,
        )
        .await?;
    events::record_tx(
        &state,
        &mut tx,
        Some(&auth.user.id),
        EventType::PasswordChanged,
        &client,
        serde_json::json!({ "revokedSessions": revoked.len() }),
    )
    .await?;
    valine_store::commit(tx).await?;
    state.metrics.auth_event(EventType::PasswordChanged);
    for _ in &revoked {
        state.metrics.session_revoked("password_changed");
    }
    Ok(Json(Message::new("Password changed")))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEventView {
    id: String,
    r#type: String,
    at: String,
    ip_address: Option<String>,
    user_agent: Option<String>,
    metadata: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEventPage {
    items: Vec<SecurityEventView>,
    next_cursor: Option<String>,
    has_more: bool,
}

/// The user's own security events, newest first.
#[utoipa::path(get, path = "/auth/security-events", tag = "auth", params(PageQuery),
    responses((status = 200, body = SecurityEventPage), (status = 400, body = crate::error::ErrorBody)))]
async fn security_events(
    State(state): State<AppState>,
    auth: AuthUser,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<Json<SecurityEventPage>> {
    let (limit, cursor) = page_params(q.limit, q.cursor.as_deref())?;
    let mut rows = state
        .store
        .security_events_page(&auth.user.id, cursor.as_deref(), limit + 1)
        .await?;
    let has_more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if has_more {
        rows.last().map(|r| encode_cursor(&r.id))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| SecurityEventView {
            metadata: serde_json::from_str(&r.metadata).unwrap_or(serde_json::Value::Null),
            id: r.id,
            r#type: r.event_type,
            at: iso(r.at),
            ip_address: r.ip_address,
            user_agent: r.user_agent,
        })
        .collect();
    Ok(Json(SecurityEventPage {
        items,
        next_cursor,
        has_more,
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsrfResponse {
    csrf_token: String,
}

/// A CSRF token for the current session (also set as the `XSRF-TOKEN` cookie).
#[utoipa::path(get, path = "/auth/csrf", tag = "auth",
    responses((status = 200, body = CsrfResponse), (status = 401, body = crate::error::ErrorBody)))]
async fn csrf_token(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Response> {
    let token = csrf::issue(&state.auth.keys.csrf, &auth.session_id);
    let max_age = state
        .store
        .session(&auth.session_id)
        .await?
        .map(|s| (s.expires_at - valine_store::now_ms()) / 1000)
        .unwrap_or(0);
    let mut headers = HeaderMap::new();
    cookies::set_csrf(&mut headers, &state.settings, &token, max_age);
    Ok((headers, Json(CsrfResponse { csrf_token: token })).into_response())
}
