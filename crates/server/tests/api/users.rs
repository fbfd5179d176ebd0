use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{assert_error, spawn_app};

#[tokio::test]
async fn profile_edits_apply_and_show_publicly() {
    let app = spawn_app().await;
    let token = app.login("before").await;
    let padded = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "nickname": "  after  " })),
        )
        .await;
    assert_error(
        &padded,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("nickname"),
    );
    let picture = app
        .upload_ok(&token, "a.png", &crate::uploads::png_bytes())
        .await;
    let (status, me) = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(
                json!({ "nickname": "after", "bio": "  매일 6시 기상\n", "profileImage": picture }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["nickname"], "after");
    let (status, public) = app.get(&format!("/api/users/{}", me["id"]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["bio"], "매일 6시 기상");
    assert_eq!(public["profileImage"], picture.as_str());
    let (_, cleared) = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "profileImage": null })),
        )
        .await;
    assert_eq!(cleared["profileImage"], serde_json::Value::Null);
    assert_eq!(cleared["bio"], "매일 6시 기상", "absent fields stay");
}

#[tokio::test]
async fn nicknames_are_unique_case_insensitively() {
    let app = spawn_app().await;
    app.login("Taken").await;
    let token = app.login("other").await;
    let result = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "nickname": "taken" })),
        )
        .await;
    assert_error(
        &result,
        StatusCode::CONFLICT,
        "NICKNAME_TAKEN",
        Some("nickname"),
    );
    let (_, me) = app.get("/api/me", Some(&token)).await;
    assert_eq!(me["nickname"], "other", "a refused edit changes nothing");
}

#[tokio::test]
async fn lookalike_nicknames_are_taken() {
    let app = spawn_app().await;
    app.login("admin").await;
    let token = app.login("other").await;
    for lookalike in [
        "Admin",
        "\u{430}dmin",
        "\u{ff41}\u{ff44}\u{ff4d}\u{ff49}\u{ff4e}",
        "adm\u{200b}in",
    ] {
        let result = app
            .call(
                Method::PATCH,
                "/api/me",
                Some(&token),
                Some(json!({ "nickname": lookalike })),
            )
            .await;
        assert_error(
            &result,
            StatusCode::CONFLICT,
            "NICKNAME_TAKEN",
            Some("nickname"),
        );
    }
    let (_, me) = app.get("/api/me", Some(&token)).await;
    assert_eq!(me["nickname"], "other");
    let (status, me) = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "nickname": "\u{ff4f}ther\u{200b}s" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me["nickname"], "others",
        "stored NFKC, without zero-width characters"
    );
}

#[tokio::test]
async fn invisible_bidi_tag_and_stacked_mark_nicknames_are_refused() {
    let app = spawn_app().await;
    let token = app.login("visible").await;
    let zalgo = format!("a{}", "\u{301}".repeat(19));
    for bad in [
        "\u{200b}\u{200b}",
        "\u{3164}\u{3164}",
        "\u{115f}\u{1160}",
        "\u{ffa0}\u{ffa0}",
        "\u{202e}nimda",
        "ad\u{2066}min",
        "admin\u{e0041}\u{e0042}",
        "a\u{301}\u{302}\u{303}b",
        zalgo.as_str(),
    ] {
        let result = app
            .call(
                Method::PATCH,
                "/api/me",
                Some(&token),
                Some(json!({ "nickname": bad })),
            )
            .await;
        assert_error(
            &result,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some("nickname"),
        );
    }
    for good in ["쓱관러", "김민지", "Alice", "bob_99"] {
        let (status, me) = app
            .call(
                Method::PATCH,
                "/api/me",
                Some(&token),
                Some(json!({ "nickname": good })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{good}: {me}");
        assert_eq!(me["nickname"], good);
    }
}

#[tokio::test]
async fn profile_edits_are_validated_field_by_field() {
    let app = spawn_app().await;
    let token = app.login("valid").await;
    for (body, field) in [
        (json!({ "nickname": "x" }), "nickname"),
        (json!({ "bio": "가".repeat(301) }), "bio"),
        (
            json!({ "profileImage": "javascript:alert(1)" }),
            "profileImage",
        ),
        (json!({ "nickname": 5 }), "nickname"),
        (json!({ "role": "admin" }), "role"),
    ] {
        let result = app
            .call(Method::PATCH, "/api/me", Some(&token), Some(body))
            .await;
        assert_error(
            &result,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
    assert_error(
        &app.call(Method::PATCH, "/api/me", None, Some(json!({ "bio": "x" })))
            .await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn unknown_and_malformed_user_ids() {
    let app = spawn_app().await;
    assert_error(
        &app.get("/api/users/999", None).await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
        None,
    );
    assert_error(
        &app.get("/api/users/abc", None).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("id"),
    );
    assert_error(
        &app.get("/api/users/-1", None).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("id"),
    );
}
