//! Socket errors: one coded `error` frame for every refusal, in the language negotiated at the
//! upgrade (`lang` query parameter first, then `Accept-Language`, Korean by default).

use futures::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::support::{Ws, spawn_app};

/// A socket for `token` at `/api/ws{query}` with an optional `Accept-Language`.
async fn connect(base: &str, token: &str, query: &str, accept_language: Option<&str>) -> Ws {
    let url = format!("{}/api/ws{query}", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert(
        "authorization",
        format!("Bearer {token}").parse().expect("valid"),
    );
    if let Some(lang) = accept_language {
        headers.insert("accept-language", lang.parse().expect("valid"));
    }
    let (stream, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connects");
    Ws::from_stream(stream)
}

#[tokio::test]
async fn error_messages_follow_the_language_negotiated_at_the_upgrade() {
    let app = spawn_app().await;
    let token = app.login("polyglot").await;
    let leave = json!({ "type": "leave", "room": 999 });
    // (query, Accept-Language, expected message for NOT_IN_ROOM)
    let cases = [
        ("", None, "먼저 방에 입장해 주세요."),
        ("", Some("en-US,en;q=0.9"), "join the room first"),
        ("?lang=en", Some("ko-KR"), "join the room first"),
        ("?lang=ko", Some("en"), "먼저 방에 입장해 주세요."),
        ("?lang=fr", Some("en"), "join the room first"),
    ];
    for (query, accept, expected) in cases {
        let mut ws = connect(&app.base, &token, query, accept).await;
        ws.send(leave.clone()).await;
        let error = ws.next_of("error").await;
        assert_eq!(error["code"], "NOT_IN_ROOM");
        assert_eq!(error["message"], expected, "{query} {accept:?}");
        // Errors that come from the API's own rules speak the same language.
        ws.send(json!({ "type": "join", "room": 999 })).await;
        let error = ws.next_of("error").await;
        assert_eq!(error["code"], "FORBIDDEN");
        let english = error["message"].as_str().expect("valid").is_ascii();
        assert_eq!(english, expected.is_ascii(), "{error}");
    }
}

#[tokio::test]
async fn a_binary_frame_is_unsupported_and_the_connection_stays_up() {
    let app = spawn_app().await;
    let token = app.login("binary").await;
    let mut ws = connect(&app.base, &token, "?lang=en", None).await;
    ws.stream
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("sent");
    let error = ws.next_of("error").await;
    assert_eq!(error["code"], "UNSUPPORTED_FRAME");
    assert_eq!(error["message"], "frames are JSON text");
    ws.assert_alive().await;
}
