use reqwest::{StatusCode, header};
use serde_json::json;

use crate::support::{assert_error, spawn_app, spawn_app_from, spawn_app_with, test_args};

#[tokio::test]
async fn dev_login_creates_a_user_once_and_signs_in_again_by_nickname() {
    let app = spawn_app().await;
    let (status, first) = app
        .post("/api/auth/dev-login", None, json!({ "nickname": "민지" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, second) = app
        .post("/api/auth/dev-login", None, json!({ "nickname": "민지" }))
        .await;
    assert_eq!(first["user"]["id"], second["user"]["id"]);
    assert_ne!(
        first["token"], second["token"],
        "each login is a new session"
    );
    let (status, me) = app.get("/api/me", second["token"].as_str()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["nickname"], "민지");
}

#[tokio::test]
async fn dev_login_sets_an_httponly_lax_cookie_that_carries_the_same_session() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/auth/dev-login"))
        .json(&json!({ "nickname": "cookie" }))
        .send()
        .await
        .expect("sent");
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .expect("cookie set")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("ssgwan_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http public URL: no Secure flag"
    );
    let pair = cookie.split(';').next().expect("pair").to_owned();
    let me = app
        .client
        .get(app.url("/api/me"))
        .header(header::COOKIE, pair)
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    let app = spawn_app_with(&["--dev-login", "--public-url", "https://ssgwan.example"]).await;
    let response = app
        .client
        .post(app.url("/api/auth/dev-login"))
        .json(&json!({ "nickname": "secure" }))
        .send()
        .await
        .expect("sent");
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .expect("cookie")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn logout_ends_the_session_for_bearer_and_cookie_alike() {
    let app = spawn_app().await;
    let token = app.login("leaver").await;
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        response
            .headers()
            .get(header::SET_COOKIE)
            .expect("cookie cleared")
            .to_str()
            .expect("ascii")
            .contains("Max-Age=0")
    );
    assert_error(
        &app.get("/api/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn sessions_expire() {
    let app = spawn_app_with(&["--dev-login", "--session-ttl-hours", "1"]).await;
    let token = app.login("brief").await;
    app.set_now("2026-03-02T00:59:00Z");
    assert_eq!(app.get("/api/me", Some(&token)).await.0, StatusCode::OK);
    app.set_now("2026-03-02T01:00:01Z");
    assert_error(
        &app.get("/api/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn dev_login_is_404_unless_enabled() {
    let app = spawn_app_with(&[]).await;
    assert_error(
        &app.post("/api/auth/dev-login", None, json!({ "nickname": "nobody" }))
            .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        None,
    );
    let (_, providers) = app.get("/api/auth/providers", None).await;
    assert_eq!(providers, json!({ "kakao": false, "devLogin": false }));
}

#[tokio::test]
async fn dev_login_signs_in_by_the_normalized_name_and_refuses_lookalikes() {
    let app = spawn_app().await;
    let token = app.login("admin").await;
    let (_, admin) = app.get("/api/me", Some(&token)).await;
    for same in [
        "ADMIN",
        "\u{ff41}\u{ff44}\u{ff4d}\u{ff49}\u{ff4e}",
        "adm\u{200b}in",
    ] {
        let token = app.login(same).await;
        let (_, me) = app.get("/api/me", Some(&token)).await;
        assert_eq!(me["id"], admin["id"], "{same:?} is the name admin");
    }
    assert_error(
        &app.post(
            "/api/auth/dev-login",
            None,
            json!({ "nickname": "\u{430}dmin" }),
        )
        .await,
        StatusCode::CONFLICT,
        "NICKNAME_TAKEN",
        Some("nickname"),
    );
}

#[tokio::test]
async fn dev_login_validates_the_nickname() {
    let app = spawn_app().await;
    for bad in [
        "",
        "a",
        "   x   ",
        "스물한글자를넘는아주아주아주긴닉네임입니다요",
        "\u{200b}\u{200b}",
        "\u{3164}\u{3164}",
        "\u{202e}nimda",
        "ab\u{e0041}",
        "a\u{301}\u{301}\u{301}",
    ] {
        assert_error(
            &app.post("/api/auth/dev-login", None, json!({ "nickname": bad }))
                .await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some("nickname"),
        );
    }
    assert_error(
        &app.post("/api/auth/dev-login", None, json!({ "nick": "x" }))
            .await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        None,
    );
}

#[tokio::test]
async fn garbage_tokens_are_unauthorized() {
    let app = spawn_app().await;
    for token in [
        "x",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "한글토큰",
    ] {
        let response = app
            .client
            .get(app.url("/api/me"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_logout_on_another_node_ends_the_session_here_within_the_cache_ttl() {
    // Two nodes on one database.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ssgwan.db").display()
    );
    let args = test_args(&dir, &["--dev-login"]);
    let here = spawn_app_from(dir, args).await;
    let other_dir = tempfile::tempdir().expect("temp dir");
    let args = test_args(&other_dir, &["--dev-login", "--database-url", &url]);
    let other = spawn_app_from(other_dir, args).await;

    let token = here.login("walker").await;
    // Seen (and cached) here, then signed out over there.
    assert_eq!(here.get("/api/me", Some(&token)).await.0, StatusCode::OK);
    assert_eq!(
        other
            .post("/api/auth/logout", Some(&token), json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    // Past the default cache TTL (1 s), this node asks the database again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_error(
        &here.get("/api/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}
