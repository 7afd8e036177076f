//! `ApiError`: the one error type of the HTTP surface (SPEC §2).
//!
//! Handlers return `Result<T, ApiError>`. `IntoResponse` picks the status and the stable
//! code and writes `{error, code, requestId, details?}`. Internal causes are logged with the
//! request id and never sent: a 500 says only "Internal server error".

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::http::request_id::current_request_id;

/// Field name → message, for `VALIDATION_FAILED`.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Validation {
        message: String,
        details: FieldErrors,
    },
    #[error("{0}")]
    InvalidJson(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("Invalid credentials")]
    InvalidCredentials,
    #[error("Invalid two-factor code")]
    InvalidTwoFactorCode,
    #[error("Refresh token reuse detected; the session has been revoked")]
    RefreshTokenReused,
    #[error("{0}")]
    Forbidden(String),
    #[error("CSRF token validation failed")]
    CsrfFailed,
    #[error("Email verification required. Please verify your email address before continuing.")]
    EmailNotVerified,
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    NotFound(String),
    #[error("This feature is disabled")]
    FeatureDisabled,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unprocessable(String),
    /// A 422 that points into the input (e.g. a schema's line and column).
    #[error("{message}")]
    UnprocessableAt {
        message: String,
        details: FieldErrors,
    },
    #[error("Too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("Internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 400 `VALIDATION_FAILED` about one field; the message is both the human `error`
    /// and the field's detail.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut details = FieldErrors::new();
        details.insert(field.to_string(), message.clone());
        ApiError::Validation { message, details }
    }

    /// A 400 `VALIDATION_FAILED` listing every field at fault.
    pub fn fields(details: FieldErrors) -> Self {
        ApiError::Validation {
            message: "Validation failed".into(),
            details,
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }

    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            Validation { .. } | InvalidJson(_) => StatusCode::BAD_REQUEST,
            Unauthorized(_) | InvalidCredentials | InvalidTwoFactorCode | RefreshTokenReused => {
                StatusCode::UNAUTHORIZED
            }
            Forbidden(_) | CsrfFailed | EmailNotVerified | InvalidSignature(_) => {
                StatusCode::FORBIDDEN
            }
            NotFound(_) | FeatureDisabled => StatusCode::NOT_FOUND,
            Conflict(_) => StatusCode::CONFLICT,
            PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Unprocessable(_) | UnprocessableAt { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code of SPEC §2.
    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            Validation { .. } => "VALIDATION_FAILED",
            InvalidJson(_) => "INVALID_JSON",
            Unauthorized(_) => "UNAUTHORIZED",
            InvalidCredentials => "INVALID_CREDENTIALS",
            InvalidTwoFactorCode => "INVALID_TWO_FACTOR_CODE",
            RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            Forbidden(_) => "FORBIDDEN",
            CsrfFailed => "CSRF_FAILED",
            EmailNotVerified => "EMAIL_NOT_VERIFIED",
            InvalidSignature(_) => "INVALID_SIGNATURE",
            NotFound(_) => "NOT_FOUND",
            FeatureDisabled => "FEATURE_DISABLED",
            Conflict(_) => "CONFLICT",
            PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Unprocessable(_) | UnprocessableAt { .. } => "UNPROCESSABLE",
            RateLimited { .. } => "RATE_LIMITED",
            Internal(_) => "INTERNAL",
        }
    }
}

/// The wire shape of every error.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Human-readable message (seed-compatible).
    pub error: String,
    /// Stable machine-readable code.
    pub code: String,
    /// Equals the response's `X-Request-Id`.
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
    /// Seconds until a rate-limited request may be retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            // The cause chain goes to the log with the request id; the body stays generic.
            tracing::error!(
                request_id = %current_request_id(),
                error = format!("{cause:#}"),
                "internal error"
            );
        }
        let (details, retry_after) = match &self {
            ApiError::Validation { details, .. } | ApiError::UnprocessableAt { details, .. } => {
                (Some(details.clone()), None)
            }
            ApiError::RateLimited { retry_after_secs } => (None, Some(*retry_after_secs)),
            _ => (None, None),
        };
        error_response(
            self.status(),
            self.code(),
            self.to_string(),
            details,
            retry_after,
        )
    }
}

/// Builds an error response in the one shape of SPEC §2.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: String,
    details: Option<FieldErrors>,
    retry_after: Option<u64>,
) -> Response {
    let body = ErrorBody {
        error: message,
        code: code.to_string(),
        request_id: current_request_id(),
        details,
        retry_after,
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

impl From<valine_store::StoreError> for ApiError {
    fn from(err: valine_store::StoreError) -> Self {
        match err {
            valine_store::StoreError::NotFound => ApiError::NotFound("Not found".into()),
            other => ApiError::Internal(other.into()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
