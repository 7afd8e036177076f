//! Extractors whose rejections speak the error shape: bad JSON is `INVALID_JSON`, a body of
//! the wrong shape or types is `VALIDATION_FAILED` with details, a wrong content type 415,
//! an oversized body 413.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldErrors};
use crate::http::errors::status_error;

/// `axum::Json` with SPEC §2 rejections.
pub struct ValidJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ValidJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field and the expected type; it holds no secrets
            // (it quotes the schema, not the submitted values beyond short literals).
            let text = e.body_text();
            let (field, message) = data_error_field(&text);
            let mut details = FieldErrors::new();
            details.insert(field, message);
            ApiError::fields(details)
        }
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::InvalidJson(format!("Malformed JSON: {}", trim_prefix(&e.body_text())))
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "Expected request with `Content-Type: application/json`".into(),
        ),
        other => status_error(other.status(), other.body_text()),
    }
}

/// `axum`'s data-error text looks like
/// "Failed to deserialize the JSON body into the target type: email: invalid type: …".
fn data_error_field(text: &str) -> (String, String) {
    let rest = trim_prefix(text);
    match rest.split_once(": ") {
        Some((path, msg))
            if !path.is_empty() && !path.contains(' ') && !path.starts_with("missing") =>
        {
            (path.to_string(), msg.to_string())
        }
        _ => {
            if let Some(start) = rest.find("missing field `") {
                let name = rest[start + 15..].split('`').next().unwrap_or("body");
                (name.to_string(), "is required".to_string())
            } else if let Some(start) = rest.find("unknown field `") {
                let name = rest[start + 15..].split('`').next().unwrap_or("body");
                (name.to_string(), "is not a known field".to_string())
            } else {
                ("body".to_string(), rest.to_string())
            }
        }
    }
}

fn trim_prefix(text: &str) -> &str {
    text.split_once("target type: ")
        .map(|(_, r)| r)
        .or_else(|| text.split_once("JSON body: ").map(|(_, r)| r))
        .unwrap_or(text)
}

/// `axum::extract::Query` with `VALIDATION_FAILED` rejections.
pub struct ValidQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ValidQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ValidQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let msg = text
                    .split_once("query string: ")
                    .map(|(_, r)| r.to_string())
                    .unwrap_or(text);
                Err(ApiError::validation("query", msg))
            }
            Err(other) => Err(ApiError::validation("query", other.body_text())),
        }
    }
}
