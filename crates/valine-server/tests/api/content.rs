//! Profiles, settings, search, export and deletion (SPEC §8), and the email-verified gate
//! on the content group (SPEC §4).

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, Session, Spawn, TestApp, assert_error, backends, is_state_changing,
};

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn create_profile(app: &TestApp, s: &Session, body: Value) -> (u16, Value) {
    json_of(
        app.as_bearer(Method::POST, "/profiles", s)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The content group's routes come from the group itself, so a route added to it is
/// walked automatically; and every documented /profiles, /settings or /media write must
/// be in the group (a content route cannot be added outside it unnoticed).
#[tokio::test]
async fn every_content_write_needs_a_verified_email() {
    let app = TestApp::sqlite().await;
    let group = valine_server::routes::content().into_openapi();
    let mut writes = Vec::new();
    for (path, item) in group.paths.paths.iter() {
        let v = serde_json::to_value(item).unwrap();
        for method in v.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            if is_state_changing(&m) {
                writes.push((m, path.clone()));
            }
        }
    }
    assert!(writes.len() >= 4, "content group writes: {writes:?}");
    let documented = app.documented_routes("x").await;
    for (m, path, _) in &documented {
        let contentish = ["/profiles", "/settings"]
            .iter()
            .any(|p| path.starts_with(p))
            || (path.starts_with("/media/{")
                && !path.contains("/upload")
                && !path.contains("/file"));
        if contentish && is_state_changing(m) {
            assert!(
                writes.iter().any(|(wm, wp)| wm == m && wp == path),
                "{m} {path} is a content write outside the verified group"
            );
        }
    }
    let unverified = app.register("unverified_writer").await;
    let verified = app.register_verified("verified_writer").await;
    for (method, path) in &writes {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let resp = app
            .as_bearer(method.clone(), &concrete, &unverified)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "EMAIL_NOT_VERIFIED").await;
        let resp = app
            .as_bearer(method.clone(), &concrete, &verified)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(resp).await;
        assert_ne!(
            body["code"], "EMAIL_NOT_VERIFIED",
            "{method} {path} ({status})"
        );
    }
    // Reads, account security, export and deletion stay open to unverified users.
    assert_eq!(
        app.as_bearer(Method::GET, "/settings", &unverified)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.as_bearer(Method::POST, "/account/export", &unverified)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        !metrics.contains("unverified_write_blocks_total 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn profile_lifecycle_and_validation() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let s = app.register_verified("maya").await;
        let (status, p) = create_profile(
            &app,
            &s,
            json!({
                "vanityUrl": "Maya-Deren", "headline": "Filmmaker", "title": "Director",
                "bio": "Experimental cinema and dance.", "roles": ["Director", "Editor"],
                "tags": ["avant-garde", "16mm"], "location": {"city": "New York", "country": "US"},
                "socialLinks": {"website": "https://maya.example"},
            }),
        )
        .await;
        assert_eq!(status, 201, "{db:?} {p}");
        for key in [
            "id",
            "userId",
            "vanityUrl",
            "headline",
            "title",
            "bio",
            "roles",
            "location",
            "tags",
            "socialLinks",
            "privacy",
            "links",
            "media",
            "user",
            "createdAt",
            "updatedAt",
        ] {
            assert!(p.get(key).is_some(), "{key} in {p}");
        }
        assert_eq!(p["privacy"]["visibility"], "public");
        assert_eq!(p["user"]["username"], "maya");
        let id = p["id"].as_str().unwrap().to_string();

        // Second profile → 409; taken or reserved vanity → 409 / 400.
        assert_eq!(
            create_profile(&app, &s, json!({"vanityUrl": "another"}))
                .await
                .0,
            409
        );
        let other = app.register_verified("other_one").await;
        let (status, body) = create_profile(&app, &other, json!({"vanityUrl": "maya-deren"})).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("CONFLICT")));
        for bad in ["admin", "Search", "ab", "white space"] {
            let (status, body) = create_profile(&app, &other, json!({"vanityUrl": bad})).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("VALIDATION_FAILED")),
                "{bad}"
            );
        }
        let (status, _) =
            create_profile(&app, &other, json!({"vanityUrl": "otherone", "unknown": 1})).await;
        assert_eq!(status, 400);

        // Public read by vanity, any casing, anonymous.
        let resp = crate::support::raw_client()
            .get(app.url("/profiles/MAYA-DEREN"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);

        // Partial update with links; update to a taken vanity → 409.
        let (_, o) = create_profile(&app, &other, json!({"vanityUrl": "otherone"})).await;
        let resp = app
            .as_bearer(Method::PUT, &format!("/profiles/id/{id}"), &s)
            .json(&json!({"headline": "Film poet", "links": [
                {"label": "Showreel", "url": "https://vimeo.example/1", "type": "showreel"},
                {"label": "IMDb", "url": "https://imdb.example/nm1", "type": "imdb"}]}))
            .send()
            .await
            .unwrap();
        let (status, p) = json_of(resp).await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(p["headline"], "Film poet");
        assert_eq!(p["title"], "Director", "untouched fields kept");
        assert_eq!(p["links"].as_array().unwrap().len(), 2);
        assert_eq!(p["links"][0]["label"], "Showreel");
        let resp = app
            .as_bearer(Method::PUT, &format!("/profiles/id/{id}"), &s)
            .json(&json!({"vanityUrl": "OtherOne"}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 409, "CONFLICT").await;
        let resp = app
            .as_bearer(Method::PUT, &format!("/profiles/id/{id}"), &s)
            .json(&json!({"links": (0..21).map(|i| json!({"label": format!("l{i}"), "url": "https://x.example", "type": "other"})).collect::<Vec<_>>()}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "VALIDATION_FAILED").await;

        // Someone else's profile by id: 404 for read, update and delete.
        let oid = o["id"].as_str().unwrap();
        for m in [Method::GET, Method::PUT, Method::DELETE] {
            let resp = app
                .as_bearer(m.clone(), &format!("/profiles/id/{oid}"), &s)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_error(resp, 404, "NOT_FOUND").await;
        }

        // Private: 403 to others and anonymous, visible to the owner.
        let resp = app
            .as_bearer(Method::PUT, &format!("/profiles/id/{id}"), &s)
            .json(&json!({"privacy": {"visibility": "private"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_error(
            crate::support::raw_client()
                .get(app.url("/profiles/maya-deren"))
                .send()
                .await
                .unwrap(),
            403,
            "FORBIDDEN",
        )
        .await;
        assert_error(
            app.as_bearer(Method::GET, "/profiles/maya-deren", &other)
                .send()
                .await
                .unwrap(),
            403,
            "FORBIDDEN",
        )
        .await;
        assert_eq!(
            app.as_bearer(Method::GET, "/profiles/maya-deren", &s)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );

        // Delete.
        let resp = app
            .as_bearer(Method::DELETE, &format!("/profiles/id/{id}"), &s)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_error(
            app.as_bearer(Method::GET, "/profiles/maya-deren", &s)
                .send()
                .await
                .unwrap(),
            404,
            "NOT_FOUND",
        )
        .await;
    }
}

#[tokio::test]
async fn settings_defaults_merge_and_validation() {
    let app = TestApp::sqlite().await;
    let s = app.register_verified("setter").await;
    let (status, v) = json_of(
        app.as_bearer(Method::GET, "/settings", &s)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        v["notifications"],
        json!({"email": true, "push": true, "reelRequests": true, "messages": true, "comments": true, "likes": true})
    );
    assert_eq!(
        v["accountSecurity"],
        json!({"loginNotifications": true, "twoFactorEnabled": false})
    );
    assert_eq!(
        v["privacy"],
        json!({"showActivity": true, "allowMessagesFrom": "everyone", "showOnlineStatus": true})
    );
    let resp = app
        .as_bearer(Method::PUT, "/settings", &s)
        .json(&json!({"notifications": {"likes": false}, "privacy": {"allowMessagesFrom": "connections"}}))
        .send()
        .await
        .unwrap();
    let (status, v) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(v["notifications"]["likes"], false);
    assert_eq!(v["notifications"]["email"], true);
    assert_eq!(v["privacy"]["allowMessagesFrom"], "connections");
    for bad in [
        json!({"notifications": {"likes": "nope"}}),
        json!({"notifications": {"smoke": true}}),
        json!({"accountSecurity": {"twoFactorEnabled": true}}),
        json!({"privacy": {"allowMessagesFrom": "aliens"}}),
        json!({"colours": {}}),
    ] {
        let resp = app
            .as_bearer(Method::PUT, "/settings", &s)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "VALIDATION_FAILED").await;
    }
    let (_, v) = json_of(
        app.as_bearer(Method::GET, "/settings", &s)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        v["notifications"]["likes"], false,
        "failed updates changed nothing"
    );
    assert_eq!(v["privacy"]["allowMessagesFrom"], "connections");
}

async fn profile(app: &TestApp, name: &str, body: Value) -> Session {
    let s = app.register_verified(name).await;
    let (status, p) = create_profile(app, &s, body).await;
    assert_eq!(status, 201, "{p}");
    s
}

async fn search(app: &TestApp, qs: &str) -> (u16, Value) {
    json_of(
        crate::support::raw_client()
            .get(app.url(&format!("/search?{qs}")))
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn vanities(v: &Value) -> Vec<String> {
    assert!(v["items"].is_array(), "not a search page: {v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["vanityUrl"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_is_full_text_ranked_filtered_and_public_only() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        profile(&app, "gena", json!({"vanityUrl": "gena-r", "bio": "Stage actress known for Chekhov revivals",
            "roles": ["Actor"], "tags": ["Theatre", "Classics"], "location": {"city": "Chicago", "country": "US"}})).await;
        profile(&app, "oscar", json!({"vanityUrl": "oscar-m", "bio": "Cinematographer shooting on film",
            "roles": ["Cinematographer"], "tags": ["noir"], "location": {"city": "London", "country": "UK"}})).await;
        profile(
            &app,
            "hidden",
            json!({"vanityUrl": "hidden-h", "bio": "Chekhov scholar",
            "tags": ["theatre"], "privacy": {"visibility": "private"}}),
        )
        .await;

        let (status, v) = search(&app, "query=chekhov").await;
        assert_eq!(status, 200, "{db:?} {v}");
        assert_eq!(vanities(&v), ["gena-r"], "bio word; private never returned");
        assert_eq!(v["query"]["query"], "chekhov");
        let (_, v) = search(&app, "query=THEATRE").await;
        assert_eq!(vanities(&v), ["gena-r"], "tag, case-insensitive");
        let (_, v) = search(&app, "query=cinemato").await;
        assert_eq!(vanities(&v), ["oscar-m"], "prefix match");
        let (_, v) = search(&app, "query=oscar").await;
        assert_eq!(vanities(&v), ["oscar-m"], "username");
        let (_, v) = search(&app, "role=actor").await;
        assert_eq!(vanities(&v), ["gena-r"]);
        let (_, v) = search(&app, "location=london").await;
        assert_eq!(vanities(&v), ["oscar-m"]);
        let (_, v) = search(&app, "query=film&role=actor").await;
        assert!(vanities(&v).is_empty());
        let (_, v) = search(&app, "query=%22%29%3B%20DROP%20TABLE%20users").await;
        assert!(v["items"].is_array(), "hostile query is just words: {v}");
        assert_eq!(search(&app, "").await.0, 400);
        assert_eq!(search(&app, "query=x&limit=0").await.0, 400);
        assert_eq!(search(&app, "query=x&limit=101").await.0, 400);

        // Pagination: two public profiles with location US/UK, one per page.
        let (_, p1) = search(&app, "location=u&limit=1").await;
        assert_eq!(p1["hasMore"], true);
        let cursor = p1["nextCursor"].as_str().unwrap();
        let (_, p2) = search(&app, &format!("location=u&limit=1&cursor={cursor}")).await;
        assert_eq!(p2["hasMore"], false);
        assert_ne!(vanities(&p1), vanities(&p2));

        let (_, users) = json_of(
            crate::support::raw_client()
                .get(app.url("/search/users?query=gena"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(users["items"][0]["username"], "gena");
        let (_, users) = json_of(
            crate::support::raw_client()
                .get(app.url("/search/users?query=hidden"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(
            users["items"].as_array().unwrap().is_empty(),
            "no public profile, no result"
        );
    }
}

#[tokio::test]
async fn export_holds_only_my_data_and_no_secrets() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let a = profile(
            &app,
            "exporter",
            json!({"vanityUrl": "exporter", "bio": "mine"}),
        )
        .await;
        let b = profile(
            &app,
            "bystander",
            json!({"vanityUrl": "bystander", "bio": "Bystander secret bio"}),
        )
        .await;
        let resp = app
            .as_bearer(Method::POST, "/account/export", &a)
            .send()
            .await
            .unwrap();
        let (status, doc) = json_of(resp).await;
        assert_eq!(status, 200);
        for key in [
            "formatVersion",
            "exportedAt",
            "user",
            "profile",
            "settings",
            "sessions",
            "securityEvents",
        ] {
            assert!(doc.get(key).is_some(), "{key}");
        }
        assert_eq!(doc["user"]["username"], "exporter");
        assert_eq!(doc["profile"]["vanityUrl"], "exporter");
        let text = doc.to_string();
        let b_user = app
            .state
            .store
            .user_by_login("bystander")
            .await
            .unwrap()
            .unwrap();
        for foreign in [
            "bystander",
            "Bystander secret bio",
            b_user.id.as_str(),
            &b.access,
            &b.refresh,
        ] {
            assert!(
                !text.contains(foreign),
                "export leaks another user's data: {foreign}"
            );
        }
        let a_user = app
            .state
            .store
            .user_by_login("exporter")
            .await
            .unwrap()
            .unwrap();
        for secret in [
            a_user.password_hash.as_str(),
            PASSWORD,
            &a.refresh,
            &a.access,
            &a.csrf,
            "passwordHash",
            "tokenHash",
            "secret",
        ] {
            assert!(!text.contains(secret), "export contains a secret: {secret}");
        }
        // 5 per hour.
        for _ in 0..4 {
            assert_eq!(
                app.as_bearer(Method::POST, "/account/export", &a)
                    .send()
                    .await
                    .unwrap()
                    .status(),
                200
            );
        }
        assert_error(
            app.as_bearer(Method::POST, "/account/export", &a)
                .send()
                .await
                .unwrap(),
            429,
            "RATE_LIMITED",
        )
        .await;
    }
}

#[tokio::test]
async fn deleting_the_account_removes_everything_and_kills_tokens() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let s = profile(
            &app,
            "leaver",
            json!({"vanityUrl": "leaver", "bio": "gone soon"}),
        )
        .await;
        let other_session = app.login("leaver", PASSWORD).await;
        let wrong = app
            .as_bearer(Method::DELETE, "/account", &s)
            .json(&json!({"confirmPassword": "nope-nope"}))
            .send()
            .await
            .unwrap();
        assert_error(wrong, 401, "INVALID_CREDENTIALS").await;
        let resp = app
            .as_bearer(Method::DELETE, "/account", &s)
            .json(&json!({"confirmPassword": PASSWORD}))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(resp).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["deletedAt"].is_string());
        assert_eq!(app.me_status(&s).await, 401);
        assert_eq!(app.me_status(&other_session).await, 401);
        assert_error(
            crate::support::raw_client()
                .get(app.url("/profiles/leaver"))
                .send()
                .await
                .unwrap(),
            404,
            "NOT_FOUND",
        )
        .await;
        assert!(
            app.state
                .store
                .user_by_login("leaver")
                .await
                .unwrap()
                .is_none()
        );
        let (_, v) = search(&app, "query=gone").await;
        assert!(v["items"].as_array().unwrap().is_empty());
        // The name is free again.
        app.register("leaver").await;
    }
}

/// SPEC §16 phases 1–3 in `/internal/stats`, from real activity.
#[tokio::test]
async fn stats_report_the_account_phases() {
    let app = TestApp::sqlite().await;
    let key = crate::internal_keys::api_key(&app, &["all"]).await;
    let verified = app.register_verified("stat_v").await;
    let unverified = app.register("stat_u").await;
    app.login("stat_v", PASSWORD).await;
    // One unverified write block and one CSRF rejection.
    let _ = app
        .as_bearer(Method::PUT, "/settings", &unverified)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let _ = crate::support::raw_client()
        .post(app.url("/auth/logout-all"))
        .header("cookie", verified.cookie_header())
        .send()
        .await
        .unwrap();
    app.as_bearer(Method::POST, "/auth/logout", &verified)
        .send()
        .await
        .unwrap();
    let stats: Value = crate::support::raw_client()
        .get(app.url("/internal/stats"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let p1 = &stats["phase1"];
    assert_eq!(
        (p1["registered"].as_i64(), p1["verified"].as_i64()),
        (Some(2), Some(1)),
        "{stats}"
    );
    assert_eq!(p1["verificationRate"], 0.5);
    assert_eq!(p1["unverifiedWriteBlocks"], 1);
    let p2 = &stats["phase2"];
    assert_eq!(p2["activeSessions"], 2, "{p2}");
    assert_eq!(p2["sessionRevocationsByReason"]["logout"], 1);
    assert_eq!(p2["twoFactorAdoption"], 0.0);
    let p3 = &stats["phase3"];
    assert_eq!(p3["csrfRejections"]["missing"], 1, "{p3}");
    assert!(p3["csrfChecks"].as_u64().unwrap() >= 2);
}
