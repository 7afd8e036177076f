//! Media routes (SPEC §8). `router()` holds the session-authenticated routes (merged into
//! the content group, so writes need a verified email); `signed_router()` holds the two
//! routes authorised by a signed URL instead of a session (upload `PUT`, file `GET`).

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::auth::AuthUser;
use crate::http::extract::ValidJson;
use crate::media::{
    self, AccessUrl, Completion, MediaType, MediaUpdate, MediaView, Privacy, SignedQuery,
    UploadRequest, UploadTicket,
};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_url))
        .routes(routes!(complete))
        .routes(routes!(update_media, delete_media))
        .routes(routes!(access_url))
}

/// Routes authorised by signature, not session: outside the verified-email gate, and the
/// upload without the global 1 MiB body limit (it enforces `MEDIA_MAX_BYTES` while
/// streaming).
pub fn signed_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_bytes))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(file))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadUrlRequest {
    #[serde(rename = "type")]
    media_type: MediaType,
    /// One of image/jpeg, image/png, image/webp, image/gif, video/mp4, video/quicktime,
    /// video/webm, application/pdf, matching `type`.
    content_type: String,
    /// Bytes; at most `MEDIA_MAX_BYTES`.
    file_size: u64,
    title: Option<String>,
    description: Option<String>,
    /// Default `public`.
    privacy: Option<Privacy>,
}

/// Creates a pending media and a signed upload URL (valid 15 minutes) for the bytes.
#[utoipa::path(post, path = "/profiles/{id}/media/upload-url", tag = "media",
    params(("id" = String, Path, description = "Profile id (the caller's own)")),
    request_body = UploadUrlRequest,
    responses((status = 201, body = UploadTicket),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 404, description = "No such profile of the caller", body = crate::error::ErrorBody),
              (status = 413, description = "fileSize over MEDIA_MAX_BYTES", body = crate::error::ErrorBody),
              (status = 415, description = "contentType outside the allow-list", body = crate::error::ErrorBody)))]
async fn upload_url(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<UploadUrlRequest>,
) -> ApiResult<(StatusCode, Json<UploadTicket>)> {
    let ticket = media::create_upload(
        &state,
        &auth.user,
        &id,
        UploadRequest {
            media_type: req.media_type,
            content_type: req.content_type,
            file_size: req.file_size,
            title: req.title,
            description: req.description,
            privacy: req.privacy,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

#[derive(Serialize, ToSchema)]
pub struct UploadReceived {
    #[serde(rename = "mediaId")]
    media_id: String,
    /// Bytes stored.
    size: u64,
}

/// Receives the bytes of an upload. Authorised by the URL's signature (no session, exempt
/// from CSRF); the body may be up to the declared `fileSize` (and `MEDIA_MAX_BYTES`).
/// Expired or tampered URL → 403 `INVALID_SIGNATURE`.
#[utoipa::path(put, path = "/media/upload/{id}", tag = "media",
    params(("id" = String, Path, description = "Media id"),
           ("expires" = i64, Query, description = "Unix seconds"),
           ("sig" = String, Query, description = "HMAC-SHA256, hex")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
                 description = "The file, with the Content-Type declared for it"),
    responses((status = 200, body = UploadReceived),
              (status = 403, description = "Expired or invalid signature", body = crate::error::ErrorBody),
              (status = 409, description = "Media already processed", body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody),
              (status = 415, description = "Content-Type differs from the declared one", body = crate::error::ErrorBody),
              (status = 500, description = "Storage failure (logged with its cause)", body = crate::error::ErrorBody)))]
async fn upload_bytes(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<UploadReceived>> {
    let query = SignedQuery::parse(query.as_deref());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let content_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let size =
        media::receive_upload(&state, &id, &query, content_type, content_length, body).await?;
    Ok(Json(UploadReceived { media_id: id, size }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleteRequest {
    media_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct MediaResponse {
    media: MediaView,
}

/// Finishes an upload: the stored bytes are sniffed (magic bytes) against the declared type
/// and the allow-list; images get width and height. Refused content → 422 with the reason
/// in `error` and `details.failureReason` (the media is then `failed`).
#[utoipa::path(post, path = "/profiles/{id}/media/complete", tag = "media",
    params(("id" = String, Path, description = "Profile id (the caller's own)")),
    request_body = CompleteRequest,
    responses((status = 200, body = MediaResponse),
              (status = 404, description = "Not the caller's profile or media", body = crate::error::ErrorBody),
              (status = 409, description = "Nothing uploaded yet", body = crate::error::ErrorBody),
              (status = 422, description = "Processing failed", body = crate::error::ErrorBody)))]
async fn complete(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<CompleteRequest>,
) -> ApiResult<Json<MediaResponse>> {
    match media::complete(&state, &auth.user, &id, &req.media_id).await? {
        Completion::Complete(row) => Ok(Json(MediaResponse {
            media: MediaView::from(&row),
        })),
        Completion::Failed(row) => {
            let reason = row
                .failure_reason
                .clone()
                .unwrap_or_else(|| "Processing failed".into());
            let mut details = FieldErrors::new();
            details.insert("mediaId".into(), row.id.clone());
            details.insert("processedStatus".into(), row.processed_status.clone());
            details.insert("failureReason".into(), reason.clone());
            Err(ApiError::UnprocessableAt {
                message: reason,
                details,
            })
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMediaRequest {
    /// An empty string clears it.
    title: Option<String>,
    /// An empty string clears it.
    description: Option<String>,
    privacy: Option<Privacy>,
}

/// Updates a media's title, description or privacy (owner only; others get 404).
#[utoipa::path(put, path = "/media/{id}", tag = "media",
    params(("id" = String, Path, description = "Media id")),
    request_body = UpdateMediaRequest,
    responses((status = 200, body = MediaResponse),
              (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
async fn update_media(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<UpdateMediaRequest>,
) -> ApiResult<Json<MediaResponse>> {
    let row = media::update(
        &state,
        &auth.user,
        &id,
        MediaUpdate {
            title: req.title,
            description: req.description,
            privacy: req.privacy,
        },
    )
    .await?;
    Ok(Json(MediaResponse {
        media: MediaView::from(&row),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    message: String,
    id: String,
}

/// Deletes a media and its stored bytes (owner only; others get 404).
#[utoipa::path(delete, path = "/media/{id}", tag = "media",
    params(("id" = String, Path, description = "Media id")),
    responses((status = 200, body = Deleted),
              (status = 404, body = crate::error::ErrorBody)))]
async fn delete_media(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    media::delete(&state, &auth.user, &id).await?;
    Ok(Json(Deleted {
        message: "Media deleted".into(),
        id,
    }))
}

/// A short-lived signed URL to view a media. `public` media of a public profile: anyone;
/// otherwise the owner only (401 anonymous, 403 other users).
#[utoipa::path(get, path = "/media/{id}/access-url", tag = "media",
    params(("id" = String, Path, description = "Media id")),
    responses((status = 200, body = AccessUrl),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "The owner's media is not complete", body = crate::error::ErrorBody)))]
async fn access_url(
    State(state): State<AppState>,
    auth: Option<AuthUser>,
    Path(id): Path<String>,
) -> ApiResult<Json<AccessUrl>> {
    let viewer = auth.as_ref().map(|a| &a.user);
    Ok(Json(media::access_url(&state, viewer, &id).await?))
}

/// Streams a media's bytes with its content type. Authorised by the URL's signature
/// (from `access-url` or the data export).
#[utoipa::path(get, path = "/media/file/{id}", tag = "media",
    params(("id" = String, Path, description = "Media id"),
           ("expires" = i64, Query, description = "Unix seconds"),
           ("sig" = String, Query, description = "HMAC-SHA256, hex")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
              (status = 403, description = "Expired or invalid signature", body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
async fn file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let query = SignedQuery::parse(query.as_deref());
    let (content_type, size, body) = media::open_file(&state, &id, &query).await?;
    let mut response = body.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    // The URL is a bearer credential for its lifetime; shared caches must not keep it.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(response)
}
