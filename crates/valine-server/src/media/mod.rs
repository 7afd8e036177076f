//! Portfolio media (SPEC §8): signed upload URLs, the upload itself, completion with type
//! sniffing, metadata, privacy-aware access URLs, and what profiles, the data export and
//! account deletion need from media.
//!
//! Flow: `upload-url` creates a `pending` row and a signed, expiring URL → the client `PUT`s
//! the bytes there (the signature is the authority; no session) and they land under a
//! *staging* key → `complete` moves the staging object to the media's final key, sniffs its
//! magic bytes and reads image dimensions, and records `complete` or `failed`. Only
//! `complete` ever reads the staging key and nothing writes the final key afterwards, so
//! bytes cannot be swapped after they were checked (a replayed upload URL writes a staging
//! object that is never promoted; the upload route also refuses non-pending media).

pub mod signing;
pub mod sniff;
pub mod storage;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use valine_store::media::{MediaFinish, MediaRow, NewMedia};
use valine_store::profiles::ProfileRow;
use valine_store::users::UserRow;

use crate::error::{ApiError, FieldErrors};
use crate::state::AppState;
use crate::timefmt::iso;
use sniff::Format;
use storage::WriteError;

/// How long a view URL from `access-url` lives.
pub const VIEW_URL_TTL_SECS: i64 = 300;
/// How long the download URLs of a data export live.
pub const EXPORT_URL_TTL_SECS: i64 = 900;
/// How much of a file `complete` reads to sniff it. Image headers sit at the start; a JPEG
/// whose frame header lies beyond this (over a megabyte of metadata) is refused.
const SNIFF_BYTES: u64 = 1024 * 1024;

pub const PENDING: &str = "pending";
pub const COMPLETE: &str = "complete";
pub const FAILED: &str = "failed";

const TITLE_MAX: usize = 120;
const DESCRIPTION_MAX: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Image,
    Video,
    Pdf,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Video => "video",
            MediaType::Pdf => "pdf",
        }
    }

    fn admits(self, f: Format) -> bool {
        match self {
            MediaType::Image => f.is_image(),
            MediaType::Video => matches!(f, Format::Mp4 | Format::QuickTime | Format::Webm),
            MediaType::Pdf => f == Format::Pdf,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Privacy {
    Public,
    OnRequest,
    Private,
}

impl Privacy {
    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::Public => "public",
            Privacy::OnRequest => "on-request",
            Privacy::Private => "private",
        }
    }
}

/// A media object as clients see it (SPEC §8). No storage key ever leaves the server.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaView {
    pub id: String,
    pub profile_id: String,
    /// `image`, `video` or `pdf`.
    #[serde(rename = "type")]
    pub media_type: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `public`, `on-request` or `private`.
    pub privacy: String,
    pub content_type: String,
    /// Bytes: as declared while pending, as stored once processed.
    pub file_size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// `pending`, `complete` or `failed`.
    pub processed_status: String,
    pub failure_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&MediaRow> for MediaView {
    fn from(r: &MediaRow) -> Self {
        MediaView {
            id: r.id.clone(),
            profile_id: r.profile_id.clone(),
            media_type: r.media_type.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            privacy: r.privacy.clone(),
            content_type: r.content_type.clone(),
            file_size: r.file_size,
            width: r.width,
            height: r.height,
            processed_status: r.processed_status.clone(),
            failure_reason: r.failure_reason.clone(),
            created_at: iso(r.created_at),
            updated_at: iso(r.updated_at),
        }
    }
}

/// Who is looking at a profile's media.
pub enum Viewer<'a> {
    Anonymous,
    User(&'a str /* user id */),
}

/// Media of a profile that `viewer` may see (owner: all; others: public, complete ones
/// only), newest first.
pub async fn views_for_profile(
    state: &AppState,
    profile_id: &str,
    owner_user_id: &str,
    viewer: Viewer<'_>,
) -> Result<Vec<MediaView>, ApiError> {
    let is_owner = matches!(viewer, Viewer::User(id) if id == owner_user_id);
    let rows = state.store.media_by_profile(profile_id).await?;
    Ok(rows
        .iter()
        .filter(|r| {
            is_owner || (r.privacy == Privacy::Public.as_str() && r.processed_status == COMPLETE)
        })
        .map(MediaView::from)
        .collect())
}

/// All media metadata of a user's profile with short-lived signed download URLs (for the
/// data export). `downloadUrl` is null for media that never completed.
pub async fn export_for_user(
    state: &AppState,
    user_id: &str,
) -> Result<Vec<serde_json::Value>, ApiError> {
    let rows = state.store.media_by_user(user_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut v = serde_json::to_value(MediaView::from(r)).map_err(ApiError::internal)?;
        let url =
            (r.processed_status == COMPLETE).then(|| view_url(state, &r.id, EXPORT_URL_TTL_SECS));
        if let serde_json::Value::Object(map) = &mut v {
            map.insert("downloadUrl".into(), url.into());
            map.insert("downloadUrlExpiresIn".into(), EXPORT_URL_TTL_SECS.into());
        }
        out.push(v);
    }
    Ok(out)
}

/// Object keys of all of a user's media (collect before deleting the account's rows).
/// Each media contributes its final key and its staging key (an upload never completed
/// leaves bytes only there).
pub async fn object_keys_for_user(
    state: &AppState,
    user_id: &str,
) -> Result<Vec<String>, ApiError> {
    let keys = state.store.media_keys_by_user(user_id).await?;
    Ok(keys
        .into_iter()
        .flat_map(|k| [staging_key(&k), k])
        .collect())
}

/// Deletes stored objects (best effort per object; returns how many failed, logging each).
pub async fn delete_objects(state: &AppState, keys: &[String]) -> usize {
    if keys.is_empty() {
        return 0;
    }
    let store = match storage::open(&state.settings.media_store).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(
                error = %anyhow_text(&e),
                count = keys.len(),
                "media objects not deleted: store unavailable"
            );
            return keys.len();
        }
    };
    let mut failed = 0;
    for key in keys {
        if let Err(e) = store.delete(key).await {
            tracing::error!(key = %key, error = %anyhow_text(&e), "media object not deleted");
            failed += 1;
        }
    }
    failed
}

fn anyhow_text(e: &ApiError) -> String {
    match e {
        ApiError::Internal(cause) => format!("{cause:#}"),
        other => other.to_string(),
    }
}

/// Where a media's bytes wait between the upload and `complete`.
fn staging_key(object_key: &str) -> String {
    format!("{object_key}.upload")
}

fn now_secs() -> i64 {
    valine_store::now_ms() / 1000
}

/// A signed, expiring URL that streams the media's bytes.
fn view_url(state: &AppState, media_id: &str, ttl_secs: i64) -> String {
    let expires = now_secs() + ttl_secs;
    let sig = signing::view_signature(&state.auth.keys.upload, media_id, expires);
    format!(
        "{}/media/file/{media_id}?expires={expires}&sig={sig}",
        state.settings.public_url
    )
}

/// The profile `profile_id` if `user_id` owns it; 404 otherwise (no ownership oracle).
async fn owned_profile(
    state: &AppState,
    profile_id: &str,
    user_id: &str,
) -> Result<ProfileRow, ApiError> {
    match state.store.profile_by_id(profile_id).await? {
        Some(p) if p.user_id == user_id => Ok(p),
        _ => Err(ApiError::NotFound("Profile not found".into())),
    }
}

/// The media `media_id` if `user_id` owns it; 404 otherwise.
async fn owned_media(
    state: &AppState,
    media_id: &str,
    user_id: &str,
) -> Result<MediaRow, ApiError> {
    match state.store.media_by_id(media_id).await? {
        Some(m) if m.user_id == user_id => Ok(m),
        _ => Err(ApiError::NotFound("Media not found".into())),
    }
}

fn check_text(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        errors.insert(field.into(), format!("must be at most {max} characters"));
        return None;
    }
    Some(v.to_string())
}

/// What a client asks for when it wants to upload.
pub struct UploadRequest {
    pub media_type: MediaType,
    pub content_type: String,
    pub file_size: u64,
    pub title: Option<String>,
    pub description: Option<String>,
    pub privacy: Option<Privacy>,
}

/// A signed upload URL, as handed to the client.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicket {
    pub media_id: String,
    pub upload_url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers the upload must carry.
    pub headers: BTreeMap<String, String>,
    pub expires_at: String,
}

/// Validates an upload request and creates the pending media row with its signed URL.
///
/// Content type outside the allow-list → 415; inside it but not of the declared `type`
/// (say `video` with `image/png`) → 400; declared size over `MEDIA_MAX_BYTES` → 413.
pub async fn create_upload(
    state: &AppState,
    user: &UserRow,
    profile_id: &str,
    req: UploadRequest,
) -> Result<UploadTicket, ApiError> {
    let profile = owned_profile(state, profile_id, &user.id).await?;
    let format = Format::from_content_type(&req.content_type).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "contentType {:?} is not accepted; allowed: {}",
            req.content_type,
            Format::ALL.map(Format::content_type).join(", ")
        ))
    })?;
    let mut errors = FieldErrors::new();
    if !req.media_type.admits(format) {
        errors.insert(
            "contentType".into(),
            format!(
                "{} is not a {} content type",
                format.content_type(),
                req.media_type.as_str()
            ),
        );
    }
    if req.file_size == 0 {
        errors.insert("fileSize".into(), "must be at least 1 byte".into());
    }
    let title = check_text(&mut errors, "title", req.title.as_deref(), TITLE_MAX);
    let description = check_text(
        &mut errors,
        "description",
        req.description.as_deref(),
        DESCRIPTION_MAX,
    );
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let max = state.settings.media_max_bytes;
    if req.file_size > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "fileSize {} exceeds the upload limit of {max} bytes",
            req.file_size
        )));
    }
    let file_size = i64::try_from(req.file_size)
        .map_err(|_| ApiError::PayloadTooLarge("fileSize is too large".into()))?;

    let id = valine_store::new_id();
    let object_key = format!("media/{}/{id}", profile.id);
    let now = valine_store::now_ms();
    let content_type = format.content_type();
    state
        .store
        .insert_media(&NewMedia {
            id: &id,
            profile_id: &profile.id,
            user_id: &user.id,
            media_type: req.media_type.as_str(),
            title: title.as_deref(),
            description: description.as_deref(),
            privacy: req.privacy.unwrap_or(Privacy::Public).as_str(),
            content_type,
            file_size,
            object_key: &object_key,
            now,
        })
        .await?;

    let ttl = i64::try_from(state.settings.media_upload_url_ttl.as_secs()).unwrap_or(900);
    let expires = now / 1000 + ttl;
    let sig = signing::upload_signature(
        &state.auth.keys.upload,
        &id,
        expires,
        file_size,
        content_type,
    );
    let mut headers = BTreeMap::new();
    headers.insert("Content-Type".to_string(), content_type.to_string());
    Ok(UploadTicket {
        upload_url: format!(
            "{}/media/upload/{id}?expires={expires}&sig={sig}",
            state.settings.public_url
        ),
        media_id: id,
        method: "PUT".into(),
        headers,
        expires_at: iso(expires * 1000),
    })
}

/// The `expires` and `sig` of a signed URL's query string, unparsed. Anything odd makes
/// the signature check fail (403), never a 400: a mangled URL is not a validation problem.
#[derive(Debug, Default)]
pub struct SignedQuery {
    pub expires: Option<String>,
    pub sig: Option<String>,
}

impl SignedQuery {
    pub fn parse(raw: Option<&str>) -> SignedQuery {
        let mut q = SignedQuery::default();
        for pair in raw.unwrap_or("").split('&') {
            match pair.split_once('=') {
                Some(("expires", v)) => q.expires = Some(v.to_string()),
                Some(("sig", v)) => q.sig = Some(v.to_string()),
                _ => {}
            }
        }
        q
    }
}

fn refusal(r: signing::Refusal, what: &str) -> ApiError {
    match r {
        signing::Refusal::Invalid => {
            ApiError::InvalidSignature(format!("Invalid {what} URL signature"))
        }
        signing::Refusal::Expired => {
            ApiError::InvalidSignature(format!("The {what} URL has expired; request a new one"))
        }
    }
}

/// Receives the bytes of an upload (the `PUT` of a signed upload URL).
pub async fn receive_upload(
    state: &AppState,
    media_id: &str,
    query: &SignedQuery,
    content_type: Option<&str>,
    content_length: Option<u64>,
    body: axum::body::Body,
) -> Result<u64, ApiError> {
    // An unknown id is indistinguishable from a bad signature.
    let row = state.store.media_by_id(media_id).await?;
    let (Some(row), Some(expires)) = (row, signing::parse_expires(query.expires.as_deref())) else {
        return Err(refusal(signing::Refusal::Invalid, "upload"));
    };
    let expected = signing::upload_signature(
        &state.auth.keys.upload,
        &row.id,
        expires,
        row.file_size,
        &row.content_type,
    );
    signing::check(&expected, query.sig.as_deref(), expires, now_secs())
        .map_err(|r| refusal(r, "upload"))?;
    if row.processed_status != PENDING {
        return Err(ApiError::Conflict(
            "This media has already been processed; request a new upload URL".into(),
        ));
    }
    if let Some(ct) = content_type
        && Format::from_content_type(ct) != Format::from_content_type(&row.content_type)
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be {} as declared",
            row.content_type
        )));
    }
    // The declared size is signed into the URL; the cap is the smaller of it and the limit.
    let declared = u64::try_from(row.file_size).unwrap_or(0);
    let cap = declared.min(state.settings.media_max_bytes);
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "The upload exceeds its declared fileSize ({declared} bytes) or the limit of {} bytes",
            state.settings.media_max_bytes
        ))
    };
    if content_length.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let store = storage::open(&state.settings.media_store).await?;
    match store
        .write_stream(&staging_key(&row.object_key), body, cap)
        .await
    {
        Ok(n) => Ok(n),
        Err(WriteError::TooLarge) => Err(too_large()),
        Err(WriteError::Body(e)) => {
            tracing::info!(media_id, error = %e, "upload body ended abnormally");
            Err(ApiError::validation(
                "body",
                "The upload body could not be read completely",
            ))
        }
        Err(WriteError::Store(e)) => Err(e),
    }
}

/// The result of `complete`.
pub enum Completion {
    Complete(MediaRow),
    Failed(MediaRow),
}

/// Finishes an upload: ownership, existence, size, sniffed type, image dimensions.
pub async fn complete(
    state: &AppState,
    user: &UserRow,
    profile_id: &str,
    media_id: &str,
) -> Result<Completion, ApiError> {
    owned_profile(state, profile_id, &user.id).await?;
    let row = owned_media(state, media_id, &user.id).await?;
    if row.profile_id != profile_id {
        return Err(ApiError::NotFound("Media not found".into()));
    }
    if row.processed_status != PENDING {
        return Ok(settled(row));
    }
    let store = storage::open(&state.settings.media_store).await?;
    let staging = staging_key(&row.object_key);
    if store.size(&staging).await?.is_some()
        && let Err(e) = store.rename(&staging, &row.object_key).await
        // A concurrent `complete` may have moved it first; only a missing result is an
        // error.
        && store.size(&row.object_key).await?.is_none()
    {
        return Err(e);
    }
    let Some(size) = store.size(&row.object_key).await? else {
        return Err(ApiError::Conflict(
            "No upload has been received for this media yet".into(),
        ));
    };
    let size_i64 = i64::try_from(size).unwrap_or(i64::MAX);
    let verdict = inspect(state, &store, &row, size).await?;
    let now = valine_store::now_ms();
    let finish = match &verdict {
        Ok(dims) => MediaFinish {
            status: COMPLETE,
            file_size: size_i64,
            width: dims.map(|d| i64::from(d.width)),
            height: dims.map(|d| i64::from(d.height)),
            failure_reason: None,
            now,
        },
        Err(reason) => MediaFinish {
            status: FAILED,
            file_size: size_i64,
            width: None,
            height: None,
            failure_reason: Some(reason),
            now,
        },
    };
    let won = state.store.finish_media(&row.id, &finish).await?;
    if won && verdict.is_err() {
        // Refused content is not kept.
        if let Err(e) = store.delete(&row.object_key).await {
            tracing::warn!(media_id, error = %anyhow_text(&e), "refused upload not deleted");
        }
    }
    let row = state
        .store
        .media_by_id(&row.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Media not found".into()))?;
    Ok(settled(row))
}

fn settled(row: MediaRow) -> Completion {
    if row.processed_status == COMPLETE {
        Completion::Complete(row)
    } else {
        Completion::Failed(row)
    }
}

/// Checks a stored object against its row. `Ok(dimensions)` (images have them) or
/// `Err(reason)` for the user.
async fn inspect(
    state: &AppState,
    store: &storage::MediaStore,
    row: &MediaRow,
    size: u64,
) -> Result<Result<Option<sniff::Dimensions>, String>, ApiError> {
    if size == 0 {
        return Ok(Err("The uploaded file is empty".into()));
    }
    let max = state.settings.media_max_bytes;
    if size > max {
        return Ok(Err(format!(
            "The uploaded file is {size} bytes, over the limit of {max} bytes"
        )));
    }
    let head = store.prefix(&row.object_key, size.min(SNIFF_BYTES)).await?;
    let Some(found) = sniff::sniff(&head) else {
        return Ok(Err(format!(
            "The file's content is not an allowed type ({})",
            Format::ALL.map(Format::content_type).join(", ")
        )));
    };
    let declared = Format::from_content_type(&row.content_type);
    if declared != Some(found) {
        return Ok(Err(format!(
            "The file's content is {} but {} was declared",
            found.content_type(),
            row.content_type
        )));
    }
    if !found.is_image() {
        return Ok(Ok(None));
    }
    Ok(match sniff::dimensions(found, &head) {
        Ok(d) => Ok(Some(d)),
        Err(reason) => Err(format!("Unreadable image: {reason}")),
    })
}

/// A partial metadata update; an empty title or description clears it.
pub struct MediaUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub privacy: Option<Privacy>,
}

pub async fn update(
    state: &AppState,
    user: &UserRow,
    media_id: &str,
    upd: MediaUpdate,
) -> Result<MediaRow, ApiError> {
    let row = owned_media(state, media_id, &user.id).await?;
    let mut errors = FieldErrors::new();
    let title = match &upd.title {
        Some(t) => check_text(&mut errors, "title", Some(t), TITLE_MAX),
        None => row.title.clone(),
    };
    let description = match &upd.description {
        Some(d) => check_text(&mut errors, "description", Some(d), DESCRIPTION_MAX),
        None => row.description.clone(),
    };
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let privacy = upd.privacy.map(Privacy::as_str).unwrap_or(&row.privacy);
    let now = valine_store::now_ms();
    if !state
        .store
        .update_media_meta(
            &row.id,
            title.as_deref(),
            description.as_deref(),
            privacy,
            now,
        )
        .await?
    {
        return Err(ApiError::NotFound("Media not found".into()));
    }
    state
        .store
        .media_by_id(&row.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Media not found".into()))
}

/// Deletes a media: its stored objects first (so a storage failure leaves the row for a
/// retry instead of an orphaned file), then the row.
pub async fn delete(state: &AppState, user: &UserRow, media_id: &str) -> Result<(), ApiError> {
    let row = owned_media(state, media_id, &user.id).await?;
    let store = storage::open(&state.settings.media_store).await?;
    store.delete(&staging_key(&row.object_key)).await?;
    store.delete(&row.object_key).await?;
    if !state.store.delete_media(&row.id, &user.id).await? {
        return Err(ApiError::NotFound("Media not found".into()));
    }
    Ok(())
}

/// A signed view URL for a media the caller may see.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessUrl {
    pub view_url: String,
    /// A poster frame for video; not produced yet, so always null.
    pub poster_url: Option<String>,
    /// Seconds until `viewUrl` stops working.
    pub expires_in: i64,
}

/// `public` media of a public profile: anyone. Otherwise the owner only: 401 anonymous,
/// 403 another user. Media that is not `complete` does not exist for others (404); its
/// owner gets 409.
pub async fn access_url(
    state: &AppState,
    viewer: Option<&UserRow>,
    media_id: &str,
) -> Result<AccessUrl, ApiError> {
    let Some(row) = state.store.media_by_id(media_id).await? else {
        return Err(ApiError::NotFound("Media not found".into()));
    };
    let is_owner = viewer.is_some_and(|u| u.id == row.user_id);
    if !is_owner {
        if row.processed_status != COMPLETE {
            return Err(ApiError::NotFound("Media not found".into()));
        }
        let profile_public = state
            .store
            .profile_by_id(&row.profile_id)
            .await?
            .is_some_and(|p| p.visibility == "public");
        if row.privacy != Privacy::Public.as_str() || !profile_public {
            return Err(match viewer {
                None => ApiError::Unauthorized("Log in to view this media".into()),
                Some(_) => ApiError::Forbidden("This media is not shared with you".into()),
            });
        }
    } else if row.processed_status != COMPLETE {
        return Err(ApiError::Conflict(format!(
            "This media is {}; only complete media can be viewed",
            row.processed_status
        )));
    }
    Ok(AccessUrl {
        view_url: view_url(state, &row.id, VIEW_URL_TTL_SECS),
        poster_url: None,
        expires_in: VIEW_URL_TTL_SECS,
    })
}

/// The bytes behind a signed view URL: content type, size and a streaming body.
pub async fn open_file(
    state: &AppState,
    media_id: &str,
    query: &SignedQuery,
) -> Result<(String, u64, axum::body::Body), ApiError> {
    let Some(expires) = signing::parse_expires(query.expires.as_deref()) else {
        return Err(refusal(signing::Refusal::Invalid, "view"));
    };
    let expected = signing::view_signature(&state.auth.keys.upload, media_id, expires);
    signing::check(&expected, query.sig.as_deref(), expires, now_secs())
        .map_err(|r| refusal(r, "view"))?;
    let row = state
        .store
        .media_by_id(media_id)
        .await?
        .filter(|r| r.processed_status == COMPLETE)
        .ok_or_else(|| ApiError::NotFound("Media not found".into()))?;
    let store = storage::open(&state.settings.media_store).await?;
    let Some((size, body)) = store.body(&row.object_key).await? else {
        tracing::error!(media_id, key = %row.object_key, "complete media has no stored object");
        return Err(ApiError::NotFound("Media file not found".into()));
    };
    Ok((row.content_type, size, body))
}
