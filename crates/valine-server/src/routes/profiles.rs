//! `/profiles`: create, read by vanity URL or id, update, delete (SPEC §8).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use valine_store::StoreError;
use valine_store::profiles::{ProfileRow, ProfileWrite};

use crate::content::profile::{
    ProfileData, ProfileInput, ProfileUser, ProfileView, Visibility, links_from_rows,
    links_to_rows, normalize_vanity,
};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::AuthUser;
use crate::http::extract::ValidJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_profile))
        .routes(routes!(get_by_vanity))
        .routes(routes!(get_by_id, update_profile, delete_profile))
}

const TAKEN: &str = "That vanity URL is already taken";

fn not_found() -> ApiError {
    ApiError::NotFound("Profile not found".into())
}

/// The view of `row` for `viewer` (the owner sees every media item; others what they may).
async fn view(state: &AppState, row: &ProfileRow, viewer: Option<&str>) -> ApiResult<ProfileView> {
    let owner = state
        .store
        .user_by_id(&row.user_id)
        .await?
        .ok_or_else(not_found)?;
    let links = links_from_rows(state.store.profile_links(&row.id).await?);
    let who = match viewer {
        Some(id) => crate::media::Viewer::User(id),
        None => crate::media::Viewer::Anonymous,
    };
    let media = crate::media::views_for_profile(state, &row.id, &row.user_id, who)
        .await?
        .into_iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::internal)?;
    Ok(ProfileView::build(
        row,
        links,
        media,
        ProfileUser {
            id: owner.id,
            username: owner.username,
            display_name: owner.display_name,
            avatar: owner.avatar,
        },
    ))
}

async fn write(
    state: &AppState,
    id: &str,
    auth: &AuthUser,
    data: &ProfileData,
    now: i64,
    create: bool,
    links: Option<&[(String, String, String)]>,
) -> ApiResult<()> {
    let roles = serde_json::to_string(&data.roles).map_err(ApiError::internal)?;
    let tags = serde_json::to_string(&data.tags).map_err(ApiError::internal)?;
    let location = serde_json::to_string(&data.location).map_err(ApiError::internal)?;
    let social = serde_json::to_string(&data.social_links).map_err(ApiError::internal)?;
    let privacy = serde_json::to_string(&data.privacy).map_err(ApiError::internal)?;
    let search = data.search_body(&auth.user.display_name, &auth.user.username);
    let w = ProfileWrite {
        id,
        user_id: &auth.user.id,
        vanity_url: &data.vanity_url,
        normalized_vanity: &normalize_vanity(&data.vanity_url),
        headline: data.headline.as_deref(),
        title: data.title.as_deref(),
        bio: data.bio.as_deref(),
        roles: &roles,
        tags: &tags,
        location: &location,
        social_links: &social,
        privacy: &privacy,
        visibility: data.privacy.visibility.as_str(),
        roles_text: &data.roles_text(),
        location_text: &data.location_text(),
        search_body: &search,
        now,
    };
    let result = if create {
        state.store.insert_profile(&w).await
    } else {
        state.store.update_profile(&w, links).await
    };
    match result {
        Err(StoreError::Conflict { constraint }) if constraint.contains("vanity") => {
            Err(ApiError::Conflict(TAKEN.into()))
        }
        Err(StoreError::Conflict { .. }) => {
            Err(ApiError::Conflict("You already have a profile".into()))
        }
        other => Ok(other?),
    }
}

/// Creates the caller's profile (one per user).
#[utoipa::path(post, path = "/profiles", tag = "profiles", request_body = ProfileInput,
    responses((status = 201, body = ProfileView), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
async fn create_profile(
    State(state): State<AppState>,
    auth: AuthUser,
    ValidJson(input): ValidJson<ProfileInput>,
) -> ApiResult<Response> {
    if input.vanity_url.is_none() {
        return Err(ApiError::validation("vanityUrl", "is required"));
    }
    if input.links.is_some() {
        return Err(ApiError::validation(
            "links",
            "links are set with PUT /profiles/id/{id}",
        ));
    }
    let mut data = ProfileData::default();
    data.apply(input)?;
    if state.store.profile_by_user(&auth.user.id).await?.is_some() {
        return Err(ApiError::Conflict("You already have a profile".into()));
    }
    let id = valine_store::new_id();
    write(
        &state,
        &id,
        &auth,
        &data,
        valine_store::now_ms(),
        true,
        None,
    )
    .await?;
    let row = state
        .store
        .profile_by_id(&id)
        .await?
        .ok_or_else(not_found)?;
    let v = view(&state, &row, Some(&auth.user.id)).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// A profile by vanity URL: public profiles for anyone; private and network profiles only
/// for their owner (403 for others).
#[utoipa::path(get, path = "/profiles/{vanityUrl}", tag = "profiles",
    params(("vanityUrl" = String, Path)),
    responses((status = 200, body = ProfileView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
async fn get_by_vanity(
    State(state): State<AppState>,
    viewer: Option<AuthUser>,
    Path(vanity): Path<String>,
) -> ApiResult<Json<ProfileView>> {
    let row = state
        .store
        .profile_by_vanity(&normalize_vanity(&vanity))
        .await?
        .ok_or_else(not_found)?;
    let viewer_id = viewer.as_ref().map(|v| v.user.id.as_str());
    let is_owner = viewer_id == Some(row.user_id.as_str());
    let visibility = ProfileData::from_row(&row).privacy.visibility;
    // `network` behaves like private until connections exist.
    if visibility != Visibility::Public && !is_owner {
        return Err(ApiError::Forbidden("This profile is private".into()));
    }
    Ok(Json(view(&state, &row, viewer_id).await?))
}

async fn owned(state: &AppState, id: &str, auth: &AuthUser) -> ApiResult<ProfileRow> {
    state
        .store
        .profile_by_id(id)
        .await?
        .filter(|p| p.user_id == auth.user.id)
        .ok_or_else(not_found)
}

/// The caller's own profile by id (others' ids are 404).
#[utoipa::path(get, path = "/profiles/id/{id}", tag = "profiles", params(("id" = String, Path)),
    responses((status = 200, body = ProfileView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_by_id(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ProfileView>> {
    let row = owned(&state, &id, &auth).await?;
    Ok(Json(view(&state, &row, Some(&auth.user.id)).await?))
}

/// Partial update of the caller's profile; `links`, when sent, replace the list.
#[utoipa::path(put, path = "/profiles/id/{id}", tag = "profiles", params(("id" = String, Path)),
    request_body = ProfileInput,
    responses((status = 200, body = ProfileView), (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
async fn update_profile(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<ProfileInput>,
) -> ApiResult<Json<ProfileView>> {
    let row = owned(&state, &id, &auth).await?;
    let mut data = ProfileData::from_row(&row);
    let links = data.apply(input)?;
    let link_rows = links.as_deref().map(links_to_rows);
    write(
        &state,
        &id,
        &auth,
        &data,
        valine_store::now_ms(),
        false,
        link_rows.as_deref(),
    )
    .await?;
    let row = owned(&state, &id, &auth).await?;
    Ok(Json(view(&state, &row, Some(&auth.user.id)).await?))
}

/// Deletes the caller's profile with its links and media (rows and stored objects).
#[utoipa::path(delete, path = "/profiles/id/{id}", tag = "profiles", params(("id" = String, Path)),
    responses((status = 200, body = crate::routes::views::Message), (status = 404, body = crate::error::ErrorBody)))]
async fn delete_profile(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<crate::routes::views::Message>> {
    let row = owned(&state, &id, &auth).await?;
    let keys = crate::media::object_keys_for_user(&state, &auth.user.id).await?;
    if !state.store.delete_profile(&row.id, &auth.user.id).await? {
        return Err(not_found());
    }
    crate::media::delete_objects(&state, &keys).await;
    Ok(Json(crate::routes::views::Message::new("Profile deleted")))
}
