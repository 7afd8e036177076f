//! Profiles: validated input, stored form, and the view a caller may see.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use valine_store::profiles::{LinkRow, ProfileRow};

use crate::error::{ApiError, FieldErrors};
use crate::timefmt::iso;

/// Words that cannot be vanity URLs: they name routes or would confuse people.
pub const RESERVED_VANITY: &[&str] = &[
    "admin", "api", "auth", "internal", "media", "profiles", "settings", "search", "account",
    "health", "metrics", "openapi", "ready", "me", "login", "logout", "register", "signup", "www",
    "help", "support", "about", "static", "assets", "valine", "root", "system",
];

/// Social networks a profile may link, by key.
pub const SOCIAL_KEYS: &[&str] = &[
    "website",
    "instagram",
    "twitter",
    "x",
    "linkedin",
    "youtube",
    "vimeo",
    "tiktok",
    "facebook",
    "imdb",
    "spotlight",
    "backstage",
];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Network,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Network => "network",
            Visibility::Private => "private",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Privacy {
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub show_email: bool,
    #[serde(default)]
    pub show_phone: bool,
}

impl Default for Privacy {
    fn default() -> Self {
        Privacy {
            visibility: Visibility::Public,
            show_email: false,
            show_phone: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LinkType {
    Website,
    Imdb,
    Showreel,
    Other,
}

impl LinkType {
    fn as_str(self) -> &'static str {
        match self {
            LinkType::Website => "website",
            LinkType::Imdb => "imdb",
            LinkType::Showreel => "showreel",
            LinkType::Other => "other",
        }
    }
    fn parse(s: &str) -> LinkType {
        match s {
            "website" => LinkType::Website,
            "imdb" => LinkType::Imdb,
            "showreel" => LinkType::Showreel,
            _ => LinkType::Other,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub label: String,
    pub url: String,
    #[serde(rename = "type")]
    pub link_type: LinkType,
}

/// The editable fields (create: all optional but `vanityUrl`; update: all optional).
#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileInput {
    pub vanity_url: Option<String>,
    pub headline: Option<String>,
    pub title: Option<String>,
    pub bio: Option<String>,
    pub roles: Option<Vec<String>>,
    pub location: Option<Location>,
    pub tags: Option<Vec<String>>,
    pub social_links: Option<BTreeMap<String, String>>,
    pub privacy: Option<Privacy>,
    /// Replaced as a whole, in order (update only).
    pub links: Option<Vec<Link>>,
}

/// A profile's fields after validation, ready to store.
#[derive(Debug, Clone, Default)]
pub struct ProfileData {
    pub vanity_url: String,
    pub headline: Option<String>,
    pub title: Option<String>,
    pub bio: Option<String>,
    pub roles: Vec<String>,
    pub location: Location,
    pub tags: Vec<String>,
    pub social_links: BTreeMap<String, String>,
    pub privacy: Privacy,
}

pub fn normalize_vanity(v: &str) -> String {
    v.trim().to_ascii_lowercase()
}

fn check_len(errors: &mut FieldErrors, field: &str, value: &Option<String>, max: usize) {
    if let Some(v) = value
        && v.chars().count() > max
    {
        errors.insert(field.into(), format!("must be at most {max} characters"));
    }
}

pub fn valid_http_url(u: &str) -> bool {
    let u = u.trim();
    (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() <= 2048
        && u.len() > 8
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Blank optional text becomes "unset".
fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn clean_list(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl ProfileData {
    /// Applies `input` over `self` (a stored profile, or defaults on create), validating
    /// every field; returns the links to replace, if sent.
    pub fn apply(&mut self, input: ProfileInput) -> Result<Option<Vec<Link>>, ApiError> {
        let mut errors = FieldErrors::new();
        if let Some(v) = input.vanity_url {
            let v = v.trim().to_string();
            let ok_chars = v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if v.len() < 3 || v.len() > 30 || !ok_chars {
                errors.insert(
                    "vanityUrl".into(),
                    "must be 3 to 30 characters of letters, digits, '_' or '-'".into(),
                );
            } else if RESERVED_VANITY.contains(&normalize_vanity(&v).as_str()) {
                errors.insert("vanityUrl".into(), "is reserved".into());
            }
            self.vanity_url = v;
        }
        if input.headline.is_some() {
            self.headline = clean(input.headline);
        }
        if input.title.is_some() {
            self.title = clean(input.title);
        }
        if input.bio.is_some() {
            self.bio = clean(input.bio);
        }
        check_len(&mut errors, "headline", &self.headline, 120);
        check_len(&mut errors, "title", &self.title, 80);
        check_len(&mut errors, "bio", &self.bio, 2000);
        if let Some(roles) = input.roles {
            let roles = clean_list(roles);
            if roles.len() > 10 || roles.iter().any(|r| r.chars().count() > 40) {
                errors.insert(
                    "roles".into(),
                    "at most 10 roles of at most 40 characters".into(),
                );
            }
            self.roles = roles;
        }
        if let Some(tags) = input.tags {
            let tags = clean_list(tags);
            if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 30) {
                errors.insert(
                    "tags".into(),
                    "at most 20 tags of at most 30 characters".into(),
                );
            }
            self.tags = tags;
        }
        if let Some(loc) = input.location {
            let loc = Location {
                city: clean(loc.city),
                state: clean(loc.state),
                country: clean(loc.country),
            };
            for (k, v) in [
                ("city", &loc.city),
                ("state", &loc.state),
                ("country", &loc.country),
            ] {
                check_len(&mut errors, &format!("location.{k}"), v, 100);
            }
            self.location = loc;
        }
        if let Some(links) = input.social_links {
            for (k, v) in &links {
                if !SOCIAL_KEYS.contains(&k.as_str()) {
                    errors.insert(format!("socialLinks.{k}"), "is not a known network".into());
                } else if !valid_http_url(v) {
                    errors.insert(format!("socialLinks.{k}"), "must be an http(s) URL".into());
                }
            }
            self.social_links = links
                .into_iter()
                .map(|(k, v)| (k, v.trim().to_string()))
                .collect();
        }
        if let Some(p) = input.privacy {
            self.privacy = p;
        }
        let links = match input.links {
            Some(links) => {
                if links.len() > 20 {
                    errors.insert("links".into(), "at most 20 links".into());
                }
                for (i, l) in links.iter().enumerate() {
                    let n = l.label.trim().chars().count();
                    if n == 0 || n > 40 {
                        errors.insert(
                            format!("links[{i}].label"),
                            "must be 1 to 40 characters".into(),
                        );
                    }
                    if !valid_http_url(&l.url) {
                        errors.insert(format!("links[{i}].url"), "must be an http(s) URL".into());
                    }
                }
                Some(links)
            }
            None => None,
        };
        if errors.is_empty() {
            Ok(links)
        } else {
            Err(ApiError::fields(errors))
        }
    }

    pub fn from_row(row: &ProfileRow) -> ProfileData {
        ProfileData {
            vanity_url: row.vanity_url.clone(),
            headline: row.headline.clone(),
            title: row.title.clone(),
            bio: row.bio.clone(),
            roles: serde_json::from_str(&row.roles).unwrap_or_default(),
            location: serde_json::from_str(&row.location).unwrap_or_default(),
            tags: serde_json::from_str(&row.tags).unwrap_or_default(),
            social_links: serde_json::from_str(&row.social_links).unwrap_or_default(),
            privacy: serde_json::from_str(&row.privacy).unwrap_or_default(),
        }
    }

    /// `|actor|director|`: role filters match whole roles, case-insensitively.
    pub fn roles_text(&self) -> String {
        if self.roles.is_empty() {
            return String::new();
        }
        format!(
            "|{}|",
            self.roles
                .iter()
                .map(|r| r.to_lowercase())
                .collect::<Vec<_>>()
                .join("|")
        )
    }

    pub fn location_text(&self) -> String {
        [
            &self.location.city,
            &self.location.state,
            &self.location.country,
        ]
        .iter()
        .filter_map(|v| v.as_deref())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("|")
    }

    /// The full-text document: display name, username, vanity URL, headline, bio, tags.
    pub fn search_body(&self, display_name: &str, username: &str) -> String {
        [
            display_name,
            username,
            &self.vanity_url,
            self.headline.as_deref().unwrap_or(""),
            self.bio.as_deref().unwrap_or(""),
            &self.tags.join(" "),
        ]
        .join(" ")
    }
}

pub fn links_to_rows(links: &[Link]) -> Vec<(String, String, String)> {
    links
        .iter()
        .map(|l| {
            (
                l.label.trim().to_string(),
                l.url.trim().to_string(),
                l.link_type.as_str().to_string(),
            )
        })
        .collect()
}

pub fn links_from_rows(rows: Vec<LinkRow>) -> Vec<Link> {
    rows.into_iter()
        .map(|r| Link {
            label: r.label,
            url: r.url,
            link_type: LinkType::parse(&r.link_type),
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub avatar: Option<String>,
}

/// A profile in responses: one object, not wrapped.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: String,
    pub user_id: String,
    pub vanity_url: String,
    pub headline: Option<String>,
    pub title: Option<String>,
    pub bio: Option<String>,
    pub roles: Vec<String>,
    pub tags: Vec<String>,
    pub location: Location,
    pub social_links: BTreeMap<String, String>,
    pub privacy: Privacy,
    pub links: Vec<Link>,
    /// The media this viewer may see.
    #[schema(value_type = Vec<Object>)]
    pub media: Vec<serde_json::Value>,
    pub user: ProfileUser,
    pub created_at: String,
    pub updated_at: String,
}

impl ProfileView {
    pub fn build(
        row: &ProfileRow,
        links: Vec<Link>,
        media: Vec<serde_json::Value>,
        user: ProfileUser,
    ) -> ProfileView {
        let d = ProfileData::from_row(row);
        ProfileView {
            id: row.id.clone(),
            user_id: row.user_id.clone(),
            vanity_url: d.vanity_url,
            headline: d.headline,
            title: d.title,
            bio: d.bio,
            roles: d.roles,
            tags: d.tags,
            location: d.location,
            social_links: d.social_links,
            privacy: d.privacy,
            links,
            media,
            user,
            created_at: iso(row.created_at),
            updated_at: iso(row.updated_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(v: serde_json::Value) -> ProfileInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn vanity_rules() {
        for bad in [
            "ab",
            "has space",
            "admin",
            "ADMIN",
            "x".repeat(31).as_str(),
            "dots.no",
        ] {
            let mut d = ProfileData::default();
            assert!(
                d.apply(input(serde_json::json!({"vanityUrl": bad})))
                    .is_err(),
                "{bad}"
            );
        }
        let mut d = ProfileData::default();
        assert!(
            d.apply(input(serde_json::json!({"vanityUrl": "Jane-Doe_1"})))
                .is_ok()
        );
        assert_eq!(normalize_vanity(&d.vanity_url), "jane-doe_1");
    }

    #[test]
    fn field_limits_and_links() {
        let mut d = ProfileData::default();
        let err = d
            .apply(input(serde_json::json!({
                "headline": "h".repeat(121),
                "roles": vec!["r"; 11],
                "tags": ["t".repeat(31)],
                "socialLinks": {"myspace": "https://x.test", "instagram": "javascript:alert(1)"},
                "links": [{"label": "", "url": "ftp://x", "type": "website"}]
            })))
            .unwrap_err();
        let ApiError::Validation { details, .. } = err else {
            panic!()
        };
        for k in [
            "headline",
            "roles",
            "tags",
            "socialLinks.myspace",
            "socialLinks.instagram",
            "links[0].label",
            "links[0].url",
        ] {
            assert!(details.contains_key(k), "{k}: {details:?}");
        }
    }

    #[test]
    fn derived_texts() {
        let mut d = ProfileData::default();
        d.apply(input(serde_json::json!({
            "vanityUrl": "ann", "roles": ["Actor", "Director"], "tags": ["Noir"],
            "location": {"city": "Los Angeles", "country": "US"}, "bio": "Loves theatre"
        })))
        .unwrap();
        assert_eq!(d.roles_text(), "|actor|director|");
        assert_eq!(d.location_text(), "los angeles|us");
        let body = d.search_body("Ann Lee", "ann_lee");
        assert!(body.contains("Ann Lee") && body.contains("Noir") && body.contains("theatre"));
    }
}
