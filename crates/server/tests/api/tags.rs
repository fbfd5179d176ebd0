//! Tags: set on create and edit, filtered by, found by `q`, and listed by popularity.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error, merge, spawn_app, valid_challenge};

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["title"].as_str().expect("title").to_owned())
        .collect()
}

async fn list(app: &TestApp, query: &str) -> Vec<String> {
    let (status, page) = app.get(&format!("/api/challenges?{query}"), None).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    titles(&page)
}

#[tokio::test]
async fn tags_are_stored_as_words_in_order_and_replaced_by_an_edit() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let (status, created) = app
        .post(
            "/api/challenges",
            Some(&host),
            merge(
                valid_challenge(),
                json!({ "tags": [" #영어 ", "Morning", "#회화"] }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["tags"], json!(["영어", "Morning", "회화"]));
    let id = created["id"].as_i64().expect("id");
    let (_, detail) = app.get(&format!("/api/challenges/{id}"), None).await;
    assert_eq!(detail["tags"], json!(["영어", "Morning", "회화"]));

    // An edit without `tags` keeps them; with `tags` replaces them; `[]` clears them.
    let path = format!("/api/challenges/{id}");
    let (status, edited) = app
        .call(
            Method::PATCH,
            &path,
            Some(&host),
            Some(json!({ "title": "새 제목" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["tags"], json!(["영어", "Morning", "회화"]));
    let (_, edited) = app
        .call(
            Method::PATCH,
            &path,
            Some(&host),
            Some(json!({ "tags": ["speaking"] })),
        )
        .await;
    assert_eq!(edited["tags"], json!(["speaking"]));
    let (_, edited) = app
        .call(
            Method::PATCH,
            &path,
            Some(&host),
            Some(json!({ "tags": [] })),
        )
        .await;
    assert_eq!(edited["tags"], json!([]));
    // Without tags at all, the list is empty (not null).
    let plain = app.create_challenge(&host, json!({})).await;
    assert_eq!(
        app.get(&format!("/api/challenges/{plain}"), None).await.1["tags"],
        json!([])
    );
}

#[tokio::test]
async fn bad_tags_are_refused_naming_the_field_and_nothing_is_created() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    for tags in [
        json!(["run", "RUN"]),
        json!(["#run", " run "]),
        json!(["a", "b", "c", "d", "e", "f"]),
        json!([""]),
        json!(["#"]),
        json!(["two words"]),
        json!(["a,b"]),
        json!(["##a"]),
        json!(["가".repeat(21)]),
        json!(["tab\there"]),
        json!("run"),
        json!([1]),
    ] {
        let response = app
            .post(
                "/api/challenges",
                Some(&host),
                merge(valid_challenge(), json!({ "tags": tags })),
            )
            .await;
        assert_error(
            &response,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            None,
        );
        let field = response.1["field"].as_str().expect("field");
        assert!(field.starts_with("tags"), "{tags}: {}", response.1);
    }
    // The messages say what is wrong, in the caller's language.
    let english = app
        .client
        .post(app.url("/api/challenges"))
        .bearer_auth(&host)
        .header("accept-language", "en")
        .json(&merge(
            valid_challenge(),
            json!({ "tags": ["a", "b", "c", "d", "e", "f"] }),
        ))
        .send()
        .await
        .expect("sent");
    let body: Value = english.json().await.expect("json");
    assert_eq!(body["message"], "tags may have at most 5 items.");
    let (_, korean) = app
        .post(
            "/api/challenges",
            Some(&host),
            merge(valid_challenge(), json!({ "tags": ["Run", "run"] })),
        )
        .await;
    assert_eq!(korean["message"], "tags에 같은 값이 두 번 있습니다.");
    assert!(
        app.get("/api/challenges", None).await.1["items"]
            .as_array()
            .expect("items")
            .is_empty()
    );
}

#[tokio::test]
async fn one_tag_filters_the_list_and_combines_with_search_category_status_and_sort() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    for (title, category, tags) in [
        ("새벽 영어", "STUDY", json!(["영어", "아침"])),
        ("저녁 영어", "STUDY", json!(["English", "영어"])),
        ("아침 러닝", "WORKOUT", json!(["아침", "running"])),
        ("그림", "HOBBY", json!([])),
    ] {
        app.create_challenge(
            &host,
            json!({ "title": title, "category": category, "tags": tags }),
        )
        .await;
    }
    assert_eq!(list(&app, "tag=영어").await, vec!["저녁 영어", "새벽 영어"]);
    assert_eq!(
        list(&app, "tag=%23%EC%95%84%EC%B9%A8").await,
        vec!["아침 러닝", "새벽 영어"],
        "#아침, URL-encoded"
    );
    assert_eq!(
        list(&app, "tag=ENGLISH").await,
        vec!["저녁 영어"],
        "any case"
    );
    assert_eq!(
        list(&app, "tag=아침&category=WORKOUT").await,
        vec!["아침 러닝"]
    );
    assert_eq!(
        list(&app, "tag=아침&q=%EC%98%81%EC%96%B4").await,
        vec!["새벽 영어"]
    );
    assert_eq!(
        list(&app, "tag=영어&status=RECRUITING&sort=startingSoon&limit=1").await,
        vec!["새벽 영어"]
    );
    assert_eq!(
        list(&app, "tag=영어&status=ENDED").await,
        Vec::<String>::new()
    );
    assert_eq!(list(&app, "tag=없음").await, Vec::<String>::new());
    assert_eq!(
        list(&app, "tag=").await.len(),
        4,
        "an empty tag filters nothing"
    );
    // `q` finds tags too, with or without the #.
    assert_eq!(list(&app, "q=running").await, vec!["아침 러닝"]);
    assert_eq!(list(&app, "q=%23english").await, vec!["저녁 영어"]);
    // Listed items carry their tags.
    let (_, page) = app.get("/api/challenges?tag=running", None).await;
    assert_eq!(page["items"][0]["tags"], json!(["아침", "running"]));
    // A bad tag is a 400 naming `tag`.
    for bad in ["%20%20", "two%20words", "a,b", "%23%23x", &"a".repeat(21)] {
        assert_error(
            &app.get(&format!("/api/challenges?tag={bad}"), None).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some("tag"),
        );
    }
}

#[tokio::test]
async fn popular_tags_count_challenges_that_have_not_ended() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    assert_eq!(
        app.get("/api/tags/popular", None).await,
        (StatusCode::OK, json!([]))
    );
    // Two short challenges (ending 2026-03-10) and two long ones (ending 2026-03-22).
    for (tags, end) in [
        (json!(["Short", "영어"]), "2026-03-10"),
        (json!(["short"]), "2026-03-10"),
        (json!(["영어", "아침"]), "2026-03-22"),
        (json!(["#영어"]), "2026-03-22"),
    ] {
        app.create_challenge(&host, json!({ "tags": tags, "endDate": end }))
            .await;
    }
    let counts = |page: &Value| -> Vec<(String, i64)> {
        page.as_array()
            .expect("array")
            .iter()
            .map(|t| {
                (
                    t["tag"].as_str().expect("tag").to_lowercase(),
                    t["count"].as_i64().expect("count"),
                )
            })
            .collect()
    };
    let (status, popular) = app.get("/api/tags/popular", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        counts(&popular),
        vec![
            ("영어".to_owned(), 3),
            ("short".to_owned(), 2),
            ("아침".to_owned(), 1)
        ]
    );
    assert_eq!(
        app.get("/api/tags/popular?limit=1", None).await.1,
        json!([{ "tag": "영어", "count": 3 }])
    );
    // After the short ones end, their tags no longer count.
    app.set_now("2026-03-15T00:00:00Z");
    let (_, popular) = app.get("/api/tags/popular?limit=50", None).await;
    assert_eq!(
        counts(&popular),
        vec![("영어".to_owned(), 2), ("아침".to_owned(), 1)]
    );
    for bad in ["0", "51", "x", "-1"] {
        assert_error(
            &app.get(&format!("/api/tags/popular?limit={bad}"), None)
                .await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some("limit"),
        );
    }
}

#[tokio::test]
async fn the_openapi_document_describes_tags_notices_wishes_and_levels() {
    let app = spawn_app().await;
    let (_, doc) = app.get("/api/openapi.json", None).await;
    let schemas = &doc["components"]["schemas"];
    let tag = &schemas["TagName"];
    assert_eq!(tag["type"], "string");
    assert!(
        tag["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("{1,20}")),
        "{tag}"
    );
    assert_eq!(
        schemas["ChallengeInput"]["properties"]["tags"]["maxItems"],
        5
    );
    let challenge = &schemas["ChallengeDto"]["properties"];
    for field in [
        "tags",
        "notice",
        "noticeUpdatedAt",
        "wishCount",
        "wished",
        "popularity",
    ] {
        assert!(challenge[field].is_object(), "ChallengeDto.{field}");
    }
    assert_eq!(
        schemas["NoticeRequest"]["properties"]["notice"]["maxLength"],
        1000
    );
    assert_eq!(schemas["NoticeRequest"]["required"], json!(["notice"]));
    let entry = &schemas["RankingEntry"]["properties"];
    for field in ["level", "nextLevelScore", "recentScores"] {
        assert!(entry[field].is_object(), "RankingEntry.{field}");
    }
    let profile = schemas["ProfileDto"].to_string();
    for field in [
        "level",
        "nextLevelScore",
        "recentScores",
        "totalScore",
        "#/components/schemas/UserDto",
    ] {
        assert!(profile.contains(field), "ProfileDto.{field}: {profile}");
    }
    let list_params = doc["paths"]["/api/challenges"]["get"]["parameters"].to_string();
    assert!(list_params.contains("\"tag\""), "{list_params}");
    assert!(
        doc["paths"]["/api/challenges"]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .any(|p| p["name"] == "sort"
                && p["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("2 × participantCount + wishCount"))),
        "the popularity formula is documented"
    );
}
