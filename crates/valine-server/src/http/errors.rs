//! Making every failure speak the error shape: unknown routes, framework rejections that
//! arrive as bare statuses (405, 408, 413 …), and panics.

use std::any::Any;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, error_response};

/// Unknown route → 404 JSON.
pub async fn fallback(req: Request) -> Response {
    ApiError::NotFound(format!(
        "No route for {} {}",
        req.method(),
        req.uri().path()
    ))
    .into_response()
}

/// Rewrites any error response that is not already JSON (from hyper, tower-http or axum's
/// own rejections) into the error shape, keeping its status.
pub async fn normalize(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::BAD_REQUEST => ("VALIDATION_FAILED", "Bad request"),
        StatusCode::UNAUTHORIZED => ("UNAUTHORIZED", "Authentication required"),
        StatusCode::FORBIDDEN => ("FORBIDDEN", "Forbidden"),
        StatusCode::NOT_FOUND => ("NOT_FOUND", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("METHOD_NOT_ALLOWED", "Method not allowed"),
        StatusCode::REQUEST_TIMEOUT => ("REQUEST_TIMEOUT", "Request timed out"),
        StatusCode::PAYLOAD_TOO_LARGE => ("PAYLOAD_TOO_LARGE", "Request body too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("UNSUPPORTED_MEDIA_TYPE", "Unsupported content type")
        }
        StatusCode::UNPROCESSABLE_ENTITY => ("UNPROCESSABLE", "Unprocessable request"),
        StatusCode::TOO_MANY_REQUESTS => ("RATE_LIMITED", "Too many requests"),
        s if s.is_server_error() => ("INTERNAL", "Internal server error"),
        _ => ("VALIDATION_FAILED", "Bad request"),
    };
    let mut rewritten = error_response(status, code, message.to_string(), None, None);
    // Keep headers that carry meaning (Allow on 405, Retry-After, rate-limit headers).
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

/// A panicking handler becomes a bare 500; the cause is logged, never sent.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    ApiError::internal(anyhow::anyhow!("handler panicked: {detail}")).into_response()
}

/// Converts the framework's own error statuses into an `ApiError` (used by extractors).
pub fn status_error(status: StatusCode, message: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(message),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(message),
        s if s.is_server_error() => ApiError::internal(anyhow::anyhow!(message)),
        _ => ApiError::InvalidJson(message),
    }
}
