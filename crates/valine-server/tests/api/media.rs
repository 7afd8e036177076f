//! Media by signed URL (SPEC §8): upload-url → PUT the bytes → complete, with real files on
//! disk, sniffing, the size cap, signature and expiry checks, ownership, privacy, deletion.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Db, Session, Spawn, TestApp, assert_error, backends, raw_client};

// ---- a real PNG, built byte by byte -------------------------------------------------------

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc_input);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

/// A valid 8-bit greyscale PNG of `w`×`h` pixels (zlib stream with one stored block).
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            raw.push(((x * 40 + y * 60) % 256) as u8);
        }
    }
    let mut z = vec![0x78, 0x01, 0x01];
    let len = raw.len() as u16;
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&(!len).to_le_bytes());
    z.extend_from_slice(&raw);
    z.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn the_test_png_has_known_checksums() {
    // CRC of "IEND" is fixed by the PNG specification; if the helper is wrong, every
    // dimension assertion below would rest on a broken file.
    assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
}

// ---- helpers -----------------------------------------------------------------------------

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A verified user with a profile; returns the session and the profile id.
async fn owner(app: &TestApp, name: &str, visibility: &str) -> (Session, String) {
    let s = app.register_verified(name).await;
    let (status, body) = json_of(
        app.as_bearer(Method::POST, "/profiles", &s)
            .json(&json!({"vanityUrl": format!("{name}-page"), "privacy": {"visibility": visibility}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    (s, body["id"].as_str().unwrap().to_string())
}

/// The server's PUBLIC_URL is http://127.0.0.1:0 in tests; keep the path and query.
fn local(app: &TestApp, url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let path = &rest[rest.find('/').unwrap()..];
    app.url(path)
}

async fn upload_url(app: &TestApp, s: &Session, profile: &str, body: Value) -> (u16, Value) {
    json_of(
        app.as_bearer(
            Method::POST,
            &format!("/profiles/{profile}/media/upload-url"),
            s,
        )
        .json(&body)
        .send()
        .await
        .unwrap(),
    )
    .await
}

async fn put_bytes(
    app: &TestApp,
    url: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    raw_client()
        .put(local(app, url))
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn complete(app: &TestApp, s: &Session, profile: &str, media_id: &str) -> reqwest::Response {
    app.as_bearer(
        Method::POST,
        &format!("/profiles/{profile}/media/complete"),
        s,
    )
    .json(&json!({"mediaId": media_id}))
    .send()
    .await
    .unwrap()
}

/// upload-url, PUT, complete; returns the media object.
async fn upload(
    app: &TestApp,
    s: &Session,
    profile: &str,
    ty: &str,
    content_type: &str,
    bytes: Vec<u8>,
    privacy: &str,
) -> Value {
    let (status, ticket) = upload_url(
        app,
        s,
        profile,
        json!({"type": ty, "contentType": content_type, "fileSize": bytes.len(),
               "title": "Reel", "privacy": privacy}),
    )
    .await;
    assert_eq!(status, 201, "{ticket}");
    let resp = put_bytes(
        app,
        ticket["uploadUrl"].as_str().unwrap(),
        content_type,
        bytes,
    )
    .await;
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let (status, body) =
        json_of(complete(app, s, profile, ticket["mediaId"].as_str().unwrap()).await).await;
    assert_eq!(status, 200, "{body}");
    body["media"].clone()
}

fn stored_file(app: &TestApp, profile: &str, media_id: &str) -> PathBuf {
    app._dir
        .path()
        .join("media")
        .join("media")
        .join(profile)
        .join(media_id)
}

fn staging_file(app: &TestApp, profile: &str, media_id: &str) -> PathBuf {
    app._dir
        .path()
        .join("media")
        .join("media")
        .join(profile)
        .join(format!("{media_id}.upload"))
}

async fn access(app: &TestApp, who: Option<&Session>, media_id: &str) -> reqwest::Response {
    let path = format!("/media/{media_id}/access-url");
    match who {
        Some(s) => app.as_bearer(Method::GET, &path, s),
        None => raw_client().get(app.url(&path)),
    }
    .send()
    .await
    .unwrap()
}

// ---- tests ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_real_png_round_trips_with_its_dimensions() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let (s, profile) = owner(&app, "painter", "public").await;
        let bytes = png(2, 3);

        let (status, ticket) = upload_url(
            &app,
            &s,
            &profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": bytes.len(),
                   "title": "Still", "description": "A frame", "privacy": "public"}),
        )
        .await;
        assert_eq!(status, 201, "{ticket}");
        assert_eq!(ticket["method"], "PUT");
        assert_eq!(ticket["headers"]["Content-Type"], "image/png");
        assert!(ticket["expiresAt"].as_str().unwrap().ends_with('Z'));
        let media_id = ticket["mediaId"].as_str().unwrap().to_string();
        let url = ticket["uploadUrl"].as_str().unwrap();
        assert!(
            url.contains(&format!("/media/upload/{media_id}?expires=")),
            "{url}"
        );

        // Pending until complete: the owner sees it on the profile, nobody else does.
        let (_, page) = json_of(
            app.as_bearer(Method::GET, "/profiles/painter-page", &s)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page["media"][0]["processedStatus"], "pending", "{page}");

        let resp = put_bytes(&app, url, "image/png", bytes.clone()).await;
        assert_eq!(resp.status(), 200);
        let (status, body) = json_of(complete(&app, &s, &profile, &media_id).await).await;
        assert_eq!(status, 200, "{db:?} {body}");
        let m = &body["media"];
        assert_eq!(m["id"], media_id.as_str());
        assert_eq!(m["profileId"], profile.as_str());
        assert_eq!(m["type"], "image");
        assert_eq!(m["contentType"], "image/png");
        assert_eq!(m["fileSize"], bytes.len());
        assert_eq!(
            (m["width"].as_i64(), m["height"].as_i64()),
            (Some(2), Some(3))
        );
        assert_eq!(m["processedStatus"], "complete");
        assert_eq!(m["failureReason"], Value::Null);
        assert_eq!(m["title"], "Still");
        assert_eq!(m["description"], "A frame");
        assert_eq!(m["privacy"], "public");
        for k in ["createdAt", "updatedAt"] {
            assert!(m[k].as_str().unwrap().ends_with('Z'), "{k}");
        }
        assert!(m.get("objectKey").is_none() && m.get("object_key").is_none());
        assert_eq!(
            std::fs::read(stored_file(&app, &profile, &media_id)).unwrap(),
            bytes
        );
        assert!(!staging_file(&app, &profile, &media_id).exists());

        // Completing again is idempotent; the upload URL cannot replace checked bytes.
        let (status, again) = json_of(complete(&app, &s, &profile, &media_id).await).await;
        assert_eq!((status, &again["media"]["width"]), (200, &json!(2)));
        let resp = put_bytes(&app, url, "image/png", png(9, 9)[..bytes.len()].to_vec()).await;
        assert_error(resp, 409, "CONFLICT").await;

        // The access URL streams the very bytes back with their type, to anyone.
        let (status, acc) = json_of(access(&app, None, &media_id).await).await;
        assert_eq!(status, 200, "{acc}");
        assert_eq!(acc["expiresIn"], 300);
        assert_eq!(acc["posterUrl"], Value::Null);
        let resp = raw_client()
            .get(local(&app, acc["viewUrl"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "image/png");
        assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes);
    }
}

#[tokio::test]
async fn text_declared_as_png_fails_with_422_and_is_not_kept() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let (s, profile) = owner(&app, "writer", "public").await;
        let text = b"Dear diary, this is not a picture.\n".to_vec();
        let (_, ticket) = upload_url(
            &app,
            &s,
            &profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": text.len()}),
        )
        .await;
        let id = ticket["mediaId"].as_str().unwrap();
        let resp = put_bytes(
            &app,
            ticket["uploadUrl"].as_str().unwrap(),
            "image/png",
            text,
        )
        .await;
        assert_eq!(resp.status(), 200);
        let body = assert_error(complete(&app, &s, &profile, id).await, 422, "UNPROCESSABLE").await;
        assert_eq!(body["details"]["processedStatus"], "failed");
        assert!(
            body["details"]["failureReason"]
                .as_str()
                .unwrap()
                .contains("not an allowed type"),
            "{body}"
        );
        assert!(!stored_file(&app, &profile, id).exists());
        // The failure is recorded on the media.
        let (_, page) = json_of(
            app.as_bearer(Method::GET, "/profiles/writer-page", &s)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let m = &page["media"][0];
        assert_eq!(
            (
                m["processedStatus"].as_str(),
                m["failureReason"].is_string()
            ),
            (Some("failed"), true),
            "{page}"
        );
        assert_error(complete(&app, &s, &profile, id).await, 422, "UNPROCESSABLE").await;

        // A real GIF declared as PNG: sniffed type and declared type disagree.
        let gif = b"GIF89a\x02\x00\x03\x00\x00\x00\x00;".to_vec();
        let (_, ticket) = upload_url(
            &app,
            &s,
            &profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": gif.len()}),
        )
        .await;
        put_bytes(
            &app,
            ticket["uploadUrl"].as_str().unwrap(),
            "image/png",
            gif,
        )
        .await;
        let body = assert_error(
            complete(&app, &s, &profile, ticket["mediaId"].as_str().unwrap()).await,
            422,
            "UNPROCESSABLE",
        )
        .await;
        assert!(
            body["error"].as_str().unwrap().contains("image/gif"),
            "{body}"
        );

        // complete before any upload: nothing to check yet (stays pending).
        let (_, ticket) = upload_url(
            &app,
            &s,
            &profile,
            json!({"type": "pdf", "contentType": "application/pdf", "fileSize": 10}),
        )
        .await;
        let resp = complete(&app, &s, &profile, ticket["mediaId"].as_str().unwrap()).await;
        assert_error(resp, 409, "CONFLICT").await;
        let pdf = b"%PDF-1.4\n%".to_vec();
        put_bytes(
            &app,
            ticket["uploadUrl"].as_str().unwrap(),
            "application/pdf",
            pdf,
        )
        .await;
        let (status, body) =
            json_of(complete(&app, &s, &profile, ticket["mediaId"].as_str().unwrap()).await).await;
        assert_eq!(
            (status, &body["media"]["width"]),
            (200, &Value::Null),
            "{body}"
        );
    }
}

/// Sends a chunked PUT (no Content-Length) so the server must enforce the cap while
/// streaming. Returns the status code.
async fn chunked_put(app: &TestApp, url: &str, content_type: &str, chunks: &[&[u8]]) -> u16 {
    let target = local(app, url);
    let rest = target.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut req = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for c in chunks {
        req.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        req.extend_from_slice(c);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    // The server may answer 413 and close before reading everything; ignore write errors.
    let _ = tcp.write_all(&req).await;
    let mut resp = Vec::new();
    let _ = tcp.read_to_end(&mut resp).await;
    let text = String::from_utf8_lossy(&resp);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn uploads_over_the_cap_are_413_and_leave_nothing() {
    for db in backends() {
        let app = Spawn::new(db).var("MEDIA_MAX_BYTES", "100").start().await;
        let (s, profile) = owner(&app, "sculptor", "public").await;
        // Declared over the cap.
        let (status, body) = upload_url(
            &app,
            &s,
            &profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": 101}),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (413, Some("PAYLOAD_TOO_LARGE")),
            "{body}"
        );

        // Declared within the cap, then more bytes sent (with a Content-Length).
        let (_, ticket) = upload_url(
            &app,
            &s,
            &profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": 60}),
        )
        .await;
        let id = ticket["mediaId"].as_str().unwrap();
        let url = ticket["uploadUrl"].as_str().unwrap();
        let resp = put_bytes(&app, url, "image/png", vec![7u8; 80]).await;
        assert_error(resp, 413, "PAYLOAD_TOO_LARGE").await;
        // And streamed without a length: the cap holds mid-stream.
        let status = chunked_put(&app, url, "image/png", &[&[1u8; 40], &[2u8; 40]]).await;
        assert_eq!(status, 413);
        assert!(!staging_file(&app, &profile, id).exists());
        let leftovers: Vec<_> =
            std::fs::read_dir(app._dir.path().join("media").join("media").join(&profile))
                .map(|d| d.flatten().map(|e| e.file_name()).collect())
                .unwrap_or_default();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        // Within the cap, chunked, is accepted.
        let small = png(3, 1);
        assert!(small.len() <= 100, "{}", small.len());
        let (_, ticket) = upload_url(
            &app,
            &s,
            &profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": small.len()}),
        )
        .await;
        let (a, b) = small.split_at(10);
        let status = chunked_put(
            &app,
            ticket["uploadUrl"].as_str().unwrap(),
            "image/png",
            &[a, b],
        )
        .await;
        assert_eq!(status, 200);
        let (status, body) =
            json_of(complete(&app, &s, &profile, ticket["mediaId"].as_str().unwrap()).await).await;
        assert_eq!(
            (status, &body["media"]["width"]),
            (200, &json!(3)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn tampered_and_expired_upload_urls_are_403() {
    for db in backends() {
        let app = Spawn::new(db)
            .var("MEDIA_UPLOAD_URL_TTL_SECONDS", "1")
            .start()
            .await;
        let (s, profile) = owner(&app, "forger", "public").await;
        let bytes = png(1, 1);
        let (_, ticket) = upload_url(
            &app,
            &s,
            &profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": bytes.len()}),
        )
        .await;
        let url = ticket["uploadUrl"].as_str().unwrap().to_string();
        let id = ticket["mediaId"].as_str().unwrap().to_string();
        let (_, other) = upload_url(
            &app,
            &s,
            &profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": bytes.len()}),
        )
        .await;
        let other_id = other["mediaId"].as_str().unwrap();

        let sig = url.rsplit_once("sig=").unwrap().1.to_string();
        let flipped = format!(
            "{}{}",
            &sig[..sig.len() - 1],
            if sig.ends_with('0') { '1' } else { '0' }
        );
        let expires: i64 = url
            .split("expires=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let tampered = [
            url.replace(&sig, &flipped),
            url.replace(
                &format!("expires={expires}"),
                &format!("expires={}", expires + 3600),
            ),
            url.replace(&id, other_id),
            url.split_once('?').unwrap().0.to_string(),
            url.replace(&sig, ""),
            url.replace(&format!("expires={expires}"), "expires=abc"),
        ];
        for t in &tampered {
            let resp = put_bytes(&app, t, "image/png", bytes.clone()).await;
            let body = assert_error(resp, 403, "INVALID_SIGNATURE").await;
            assert!(
                body["error"].as_str().unwrap().contains("signature"),
                "{t}: {body}"
            );
        }
        // None of them stored anything.
        assert!(!staging_file(&app, &profile, &id).exists());

        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let resp = put_bytes(&app, &url, "image/png", bytes.clone()).await;
        let body = assert_error(resp, 403, "INVALID_SIGNATURE").await;
        assert!(
            body["error"].as_str().unwrap().contains("expired"),
            "{body}"
        );
        assert!(!staging_file(&app, &profile, &id).exists());
    }
}

#[tokio::test]
async fn another_users_media_and_profile_are_404_everywhere() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let (alice, alice_profile) = owner(&app, "alice", "public").await;
        let (mallory, mallory_profile) = owner(&app, "mallory", "public").await;
        let bytes = png(2, 2);
        let (_, ticket) = upload_url(
            &app,
            &alice,
            &alice_profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": bytes.len()}),
        )
        .await;
        let id = ticket["mediaId"].as_str().unwrap();
        put_bytes(
            &app,
            ticket["uploadUrl"].as_str().unwrap(),
            "image/png",
            bytes,
        )
        .await;

        // complete: on Alice's profile, and on Mallory's own profile with Alice's media.
        assert_error(
            complete(&app, &mallory, &alice_profile, id).await,
            404,
            "NOT_FOUND",
        )
        .await;
        assert_error(
            complete(&app, &mallory, &mallory_profile, id).await,
            404,
            "NOT_FOUND",
        )
        .await;
        // Unknown ids look the same.
        assert_error(
            complete(&app, &mallory, &mallory_profile, "nope").await,
            404,
            "NOT_FOUND",
        )
        .await;
        let (status, _) = upload_url(
            &app,
            &mallory,
            &alice_profile,
            json!({"type": "image", "contentType": "image/png", "fileSize": 10}),
        )
        .await;
        assert_eq!(status, 404);
        let resp = app
            .as_bearer(Method::PUT, &format!("/media/{id}"), &mallory)
            .json(&json!({"title": "mine now"}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;
        let resp = app
            .as_bearer(Method::DELETE, &format!("/media/{id}"), &mallory)
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;

        // Alice's media is untouched and still completes for her.
        let (status, body) = json_of(complete(&app, &alice, &alice_profile, id).await).await;
        assert_eq!(
            (status, body["media"]["processedStatus"].as_str()),
            (200, Some("complete"))
        );
        assert_eq!(body["media"]["title"], Value::Null);
    }
}

#[tokio::test]
async fn privacy_matrix_for_access_urls() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let (owner_s, profile) = owner(&app, "ownr", "public").await;
        let (hidden_s, hidden_profile) = owner(&app, "hidden", "private").await;
        let other = app.register_verified("stranger").await;

        let mut media = Vec::new();
        for (i, privacy) in ["public", "on-request", "private"].iter().enumerate() {
            let bytes = png(4 + i as u32, 5);
            let m = upload(
                &app,
                &owner_s,
                &profile,
                "image",
                "image/png",
                bytes.clone(),
                privacy,
            )
            .await;
            media.push((
                privacy.to_string(),
                m["id"].as_str().unwrap().to_string(),
                bytes,
                &owner_s,
            ));
        }
        // Public media on a private profile is not public.
        let bytes = png(7, 7);
        let m = upload(
            &app,
            &hidden_s,
            &hidden_profile,
            "image",
            "image/png",
            bytes.clone(),
            "public",
        )
        .await;
        media.push((
            "public-on-private-profile".into(),
            m["id"].as_str().unwrap().to_string(),
            bytes,
            &hidden_s,
        ));

        for (privacy, id, bytes, owner_session) in &media {
            let open = privacy == "public";
            let expected = [
                ("anonymous", None, if open { 200 } else { 401 }),
                ("other user", Some(&other), if open { 200 } else { 403 }),
                ("owner", Some(*owner_session), 200),
            ];
            for (who, session, status) in expected {
                let resp = access(&app, session, id).await;
                assert_eq!(resp.status().as_u16(), status, "{privacy} as {who}");
                if status != 200 {
                    let code = if status == 401 {
                        "UNAUTHORIZED"
                    } else {
                        "FORBIDDEN"
                    };
                    assert_error(resp, status, code).await;
                    continue;
                }
                let acc: Value = resp.json().await.unwrap();
                let file = raw_client()
                    .get(local(&app, acc["viewUrl"].as_str().unwrap()))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(file.status(), 200, "{privacy} as {who}");
                assert_eq!(file.headers()["content-type"], "image/png");
                assert_eq!(
                    &file.bytes().await.unwrap().to_vec(),
                    bytes,
                    "{privacy} as {who}"
                );
            }
        }

        // The profile lists what each viewer may see.
        let ids = |v: &Value| -> Vec<String> {
            v["media"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string())
                .collect()
        };
        let (_, anon_page) = json_of(
            raw_client()
                .get(app.url("/profiles/ownr-page"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(ids(&anon_page), vec![media[0].1.clone()], "{anon_page}");
        let (_, other_page) = json_of(
            app.as_bearer(Method::GET, "/profiles/ownr-page", &other)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(ids(&other_page), vec![media[0].1.clone()]);
        let (_, own_page) = json_of(
            app.as_bearer(Method::GET, "/profiles/ownr-page", &owner_s)
                .send()
                .await
                .unwrap(),
        )
        .await;
        // Newest first.
        assert_eq!(
            ids(&own_page),
            vec![media[2].1.clone(), media[1].1.clone(), media[0].1.clone()]
        );

        // A view URL is bound to its media and its expiry.
        let acc: Value = access(&app, None, &media[0].1).await.json().await.unwrap();
        let view = acc["viewUrl"].as_str().unwrap();
        let forged = view.replace(&media[0].1, &media[2].1);
        let resp = raw_client().get(local(&app, &forged)).send().await.unwrap();
        assert_error(resp, 403, "INVALID_SIGNATURE").await;

        // Turning a media private takes effect for new access URLs.
        let resp = app
            .as_bearer(Method::PUT, &format!("/media/{}", media[0].1), &owner_s)
            .json(&json!({"privacy": "private", "title": "Now private", "description": ""}))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(resp).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["media"]["privacy"], "private");
        assert_eq!(body["media"]["title"], "Now private");
        assert_eq!(body["media"]["width"], 4);
        assert_error(access(&app, None, &media[0].1).await, 401, "UNAUTHORIZED").await;
        let resp = app
            .as_bearer(Method::PUT, &format!("/media/{}", media[0].1), &owner_s)
            .json(&json!({"privacy": "friends-only"}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "VALIDATION_FAILED").await;
        assert_error(access(&app, None, "no-such-media").await, 404, "NOT_FOUND").await;
    }
}

#[tokio::test]
async fn delete_removes_the_stored_file() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let (s, profile) = owner(&app, "deleter", "public").await;
        let m = upload(
            &app,
            &s,
            &profile,
            "image",
            "image/png",
            png(3, 3),
            "public",
        )
        .await;
        let id = m["id"].as_str().unwrap();
        let path = stored_file(&app, &profile, id);
        assert!(path.exists());
        let acc: Value = access(&app, None, id).await.json().await.unwrap();

        let resp = app
            .as_bearer(Method::DELETE, &format!("/media/{id}"), &s)
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(resp).await;
        assert_eq!((status, body["id"].as_str()), (200, Some(id)));
        assert!(!path.exists());
        assert_error(access(&app, Some(&s), id).await, 404, "NOT_FOUND").await;
        let resp = raw_client()
            .get(local(&app, acc["viewUrl"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;
        let resp = app
            .as_bearer(Method::DELETE, &format!("/media/{id}"), &s)
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;
    }
}

#[tokio::test]
async fn upload_requests_are_validated() {
    let app = TestApp::sqlite().await;
    let (s, profile) = owner(&app, "checker", "public").await;
    let cases = [
        (
            json!({"type": "image", "contentType": "text/html", "fileSize": 10}),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            json!({"type": "image", "contentType": "image/svg+xml", "fileSize": 10}),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            json!({"type": "video", "contentType": "image/png", "fileSize": 10}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"type": "pdf", "contentType": "video/mp4", "fileSize": 10}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"type": "audio", "contentType": "image/png", "fileSize": 10}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"type": "image", "contentType": "image/png", "fileSize": 0}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"type": "image", "contentType": "image/png", "fileSize": -5}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"type": "image", "contentType": "image/png"}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"type": "image", "contentType": "image/png", "fileSize": 10, "privacy": "secret"}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"type": "image", "contentType": "image/png", "fileSize": 10, "title": "x".repeat(121)}),
            400,
            "VALIDATION_FAILED",
        ),
    ];
    for (body, status, code) in cases {
        let resp = app
            .as_bearer(
                Method::POST,
                &format!("/profiles/{profile}/media/upload-url"),
                &s,
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{body}");
        assert_error(resp, status, code).await;
    }
    // Writes need a verified email; reading an access URL needs no session at all.
    let unverified = app.register("unverified").await;
    let resp = app
        .as_bearer(
            Method::POST,
            &format!("/profiles/{profile}/media/upload-url"),
            &unverified,
        )
        .json(&json!({"type": "image", "contentType": "image/png", "fileSize": 10}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "EMAIL_NOT_VERIFIED").await;
    // The upload PUT declares a Content-Type; a different one is refused.
    let (_, ticket) = upload_url(
        &app,
        &s,
        &profile,
        json!({"type": "image", "contentType": "image/png", "fileSize": 10}),
    )
    .await;
    let resp = put_bytes(
        &app,
        ticket["uploadUrl"].as_str().unwrap(),
        "text/html",
        vec![0; 10],
    )
    .await;
    assert_error(resp, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    // A signed PUT with session cookies but no CSRF token is still judged by its signature.
    let resp = raw_client()
        .put(local(&app, ticket["uploadUrl"].as_str().unwrap()))
        .header("cookie", s.cookie_header())
        .header("content-type", "image/png")
        .body(png(1, 1)[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_broken_media_store_is_a_logged_500_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    // A directory cannot be created under a regular file — whoever runs the test (root
    // ignores read-only permissions, not this).
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let store = blocker.join("media");
    let app = Spawn::new(Db::Sqlite)
        .var("MEDIA_STORE", store.to_str().unwrap())
        .start()
        .await;
    let (s, profile) = owner(&app, "unlucky", "public").await;
    let bytes = png(1, 1);
    let (status, ticket) = upload_url(
        &app,
        &s,
        &profile,
        json!({"type": "image", "contentType": "image/png", "fileSize": bytes.len()}),
    )
    .await;
    assert_eq!(status, 201);
    let resp = put_bytes(
        &app,
        ticket["uploadUrl"].as_str().unwrap(),
        "image/png",
        bytes,
    )
    .await;
    let body = assert_error(resp, 500, "INTERNAL").await;
    assert_eq!(body["error"], "Internal server error");
    // The server is still up.
    assert_eq!(app.get("/health").await.status(), 200);
}

/// SPEC §8 / issue 7: after `DELETE /account` the media files are gone from disk, the export
/// before it listed them with download URLs, and the old access token is 401.
#[tokio::test]
async fn account_deletion_removes_media_files_and_export_lists_them() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let (s, profile) = owner(&app, "departing", "public").await;
        let m = upload(
            &app,
            &s,
            &profile,
            "image",
            "image/png",
            png(4, 2),
            "private",
        )
        .await;
        let id = m["id"].as_str().unwrap().to_string();
        let path = stored_file(&app, &profile, &id);
        assert!(path.exists());
        let export: Value = app
            .as_bearer(Method::POST, "/account/export", &s)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let media = &export["profile"]["media"][0];
        assert_eq!(media["id"], id.as_str(), "{export}");
        let url = media["downloadUrl"].as_str().unwrap();
        let bytes = raw_client()
            .get(local(&app, url))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(
            bytes.as_ref(),
            png(4, 2).as_slice(),
            "download URL serves the file"
        );
        assert!(
            !export.to_string().contains("object_key") && !export.to_string().contains("objectKey")
        );

        let resp = app
            .as_bearer(Method::DELETE, "/account", &s)
            .json(&json!({"confirmPassword": crate::support::PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(!path.exists(), "{db:?}: media file removed");
        assert!(!staging_file(&app, &profile, &id).exists());
        assert_eq!(app.me_status(&s).await, 401);
        let resp = raw_client().get(local(&app, url)).send().await.unwrap();
        assert!(resp.status().is_client_error());
    }
}
