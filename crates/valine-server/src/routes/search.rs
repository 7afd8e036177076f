//! `/search` and `/search/users` (SPEC §8): full text over public profiles.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use valine_store::profiles::SearchRow;

use crate::content::profile::{Location, ProfileData};
use crate::content::search::{filter_term, fulltext_query, words};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ValidQuery;
use crate::routes::views::{encode_cursor, page_params};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(search_users))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find in display name, username, vanity URL, headline, bio and tags.
    query: Option<String>,
    /// A role, matched whole and case-insensitively.
    role: Option<String>,
    /// Part of a city, state or country, case-insensitively.
    location: Option<String>,
    /// 1–100, default 20.
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchUser {
    id: String,
    username: String,
    display_name: String,
    avatar: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchItem {
    id: String,
    vanity_url: String,
    headline: Option<String>,
    title: Option<String>,
    roles: Vec<String>,
    tags: Vec<String>,
    location: Location,
    user: SearchUser,
}

#[derive(Serialize, ToSchema)]
pub struct EchoQuery {
    query: Option<String>,
    role: Option<String>,
    location: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    items: Vec<SearchItem>,
    next_cursor: Option<String>,
    has_more: bool,
    query: EchoQuery,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    items: Vec<SearchUser>,
    next_cursor: Option<String>,
    has_more: bool,
}

fn user_of(r: &SearchRow) -> SearchUser {
    SearchUser {
        id: r.profile.user_id.clone(),
        username: r.u_username.clone(),
        display_name: r.u_display_name.clone(),
        avatar: r.u_avatar.clone(),
    }
}

/// Runs the search; returns the rows of this page, whether more exist, and the next cursor.
async fn run(
    state: &AppState,
    q: &SearchQuery,
    require_filter: bool,
) -> ApiResult<(Vec<SearchRow>, bool, Option<String>)> {
    let query = q.query.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let role = q.role.as_deref().map(filter_term).filter(|s| !s.is_empty());
    let location = q
        .location
        .as_deref()
        .map(filter_term)
        .filter(|s| !s.is_empty());
    if require_filter && query.is_none() && role.is_none() && location.is_none() {
        return Err(ApiError::validation(
            "query",
            "give at least one of query, role or location",
        ));
    }
    if !require_filter && query.is_none() {
        return Err(ApiError::validation("query", "is required"));
    }
    let (limit, cursor) = page_params(q.limit, q.cursor.as_deref())?;
    let offset: i64 = match cursor {
        Some(c) => c
            .parse()
            .ok()
            .filter(|n: &i64| *n >= 0)
            .ok_or_else(|| ApiError::validation("cursor", "cursor is not valid"))?,
        None => 0,
    };
    let ws = query.map(words).unwrap_or_default();
    if query.is_some() && ws.is_empty() {
        // Only punctuation: nothing can match.
        return Ok((Vec::new(), false, None));
    }
    let fts = fulltext_query(state.store.backend(), &ws);
    let mut rows = state
        .store
        .search_profiles(
            &fts,
            role.as_deref().unwrap_or(""),
            location.as_deref().unwrap_or(""),
            limit + 1,
            offset,
        )
        .await?;
    let has_more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = has_more.then(|| encode_cursor(&(offset + limit).to_string()));
    Ok((rows, has_more, next))
}

/// Searches public profiles, ranked by relevance.
#[utoipa::path(get, path = "/search", tag = "search", params(SearchQuery),
    responses((status = 200, body = SearchPage), (status = 400, body = crate::error::ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<SearchQuery>,
) -> ApiResult<Json<SearchPage>> {
    let (rows, has_more, next_cursor) = run(&state, &q, true).await?;
    let items = rows
        .iter()
        .map(|r| {
            let d = ProfileData::from_row(&r.profile);
            SearchItem {
                id: r.profile.id.clone(),
                vanity_url: d.vanity_url,
                headline: d.headline,
                title: d.title,
                roles: d.roles,
                tags: d.tags,
                location: d.location,
                user: user_of(r),
            }
        })
        .collect();
    Ok(Json(SearchPage {
        items,
        next_cursor,
        has_more,
        query: EchoQuery {
            query: q.query,
            role: q.role,
            location: q.location,
        },
    }))
}

/// Users with a public profile matching `query`.
#[utoipa::path(get, path = "/search/users", tag = "search", params(SearchQuery),
    responses((status = 200, body = UserPage), (status = 400, body = crate::error::ErrorBody)))]
async fn search_users(
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<SearchQuery>,
) -> ApiResult<Json<UserPage>> {
    let (rows, has_more, next_cursor) = run(&state, &q, false).await?;
    Ok(Json(UserPage {
        items: rows.iter().map(user_of).collect(),
        next_cursor,
        has_more,
    }))
}
