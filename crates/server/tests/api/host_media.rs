//! Host media stops and blocks in the media server (issue 18): a host stops a member's video or
//! audio and the server forwards it to nobody; a block keeps two members' media apart; both
//! hold whatever the clients do, and every refusal changes nothing.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    attendance::one_session_room,
    moderation::{delete, put, user_id, within_a_second},
    support::{TestApp, TestPeer, Ws, assert_error},
};

async fn set_media(
    app: &TestApp,
    room: i64,
    target: i64,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.call(
        Method::PUT,
        &format!("/api/challenges/{room}/participants/{target}/media"),
        Some(token),
        Some(body),
    )
    .await
}

/// A member on camera, a viewer receiving them and the host on a socket: the tabs, the
/// member's and the viewer's peers, and the member's id.
async fn live_room(
    app: &TestApp,
    room: i64,
    tokens: &[String],
) -> (Ws, Ws, TestPeer, Ws, TestPeer, i64) {
    let member = user_id(app, &tokens[1]).await;
    let mut host = app.ws(&tokens[0]).await;
    host.join(room, None).await;
    let mut on_camera = app.ws(&tokens[1]).await;
    on_camera.join(room, None).await;
    let video = on_camera.go_on_camera(room).await;
    let mut viewer = app.ws(&tokens[2]).await;
    viewer.join(room, None).await;
    let viewer_peer = viewer.start_media(room).await;
    viewer.sees_video_of(room, &viewer_peer, member).await;
    (host, on_camera, video, viewer, viewer_peer, member)
}

#[tokio::test]
async fn a_host_stops_a_members_video_at_the_server_and_the_room_is_told() {
    let app = crate::support::spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host", "member", "viewer"]).await;
    let (mut host, mut member_ws, video, mut viewer, viewer_peer, member) =
        live_room(&app, room, &tokens).await;

    let (status, body) = set_media(
        &app,
        room,
        member,
        &tokens[0],
        json!({"videoStopped": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"userId": member, "videoStopped": true, "audioStopped": false})
    );
    // Everyone in the room is told, the member included (they see why).
    let expected = json!([{"user": member, "video": true, "audio": false}]);
    for ws in [&mut host, &mut member_ws] {
        let frame = within_a_second(ws, "mediaStops").await;
        assert_eq!(frame["stops"], expected, "{frame}");
    }
    // (The viewer's offers stay in its backlog: it answers them below.)
    let frame = viewer.next_of("mediaStops").await;
    assert_eq!(frame["stops"], expected, "{frame}");
    // The server forwards it to nobody, whatever the viewer asks for.
    viewer
        .receives_nothing_more(room, &viewer_peer, "the member\'s video")
        .await;
    viewer
        .send(
            json!({"type": "rtcView", "room": room, "tiles": [{"user": member, "size": "large"}]}),
        )
        .await;
    viewer
        .receives_nothing_more(room, &viewer_peer, "the member\'s video")
        .await;
    // The member still publishes to the server: still verified on camera.
    member_ws
        .expect_none_of("camera", Duration::from_millis(300))
        .await;
    // A repeat changes nothing and tells nobody.
    let (status, again) = set_media(
        &app,
        room,
        member,
        &tokens[0],
        json!({"videoStopped": true}),
    )
    .await;
    assert_eq!((status, again), (StatusCode::OK, body));
    viewer
        .expect_none_of("mediaStops", Duration::from_millis(300))
        .await;
    // A tab joining later learns it after `joined`.
    let mut late = app.ws(&tokens[2]).await;
    late.join(room, None).await;
    assert_eq!(late.next_of("mediaStops").await["stops"], expected);

    // Audio too, then the video again: the viewer receives it once more.
    let (status, body) = set_media(
        &app,
        room,
        member,
        &tokens[0],
        json!({"audioStopped": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["videoStopped"], true, "a kind left out stays");
    let frame = within_a_second(&mut viewer, "mediaStops").await;
    assert_eq!(
        frame["stops"],
        json!([{"user": member, "video": true, "audio": true}])
    );
    let (status, body) = set_media(
        &app,
        room,
        member,
        &tokens[0],
        json!({"videoStopped": false, "audioStopped": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let frame = viewer.next_of("mediaStops").await;
    assert_eq!(frame["stops"], json!([]));
    viewer.sees_video_of(room, &viewer_peer, member).await;
    video.stop_video();
}

#[tokio::test]
async fn media_stops_by_the_wrong_people_or_with_bad_bodies_are_refused_and_change_nothing() {
    let app = crate::support::spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host", "member", "other"]).await;
    let (_elsewhere, strangers) = one_session_room(&app, &["stranger-host", "stranger"]).await;
    let host = user_id(&app, &tokens[0]).await;
    let member = user_id(&app, &tokens[1]).await;
    let stranger = user_id(&app, &strangers[1]).await;
    let stop = json!({"videoStopped": true});
    // A member is not a host; nor is the host of another room.
    for token in [&tokens[2], &strangers[0]] {
        let refused = set_media(&app, room, member, token, stop.clone()).await;
        assert_error(&refused, StatusCode::FORBIDDEN, "NOT_HOST", None);
    }
    // Not on themselves, not on a member of another room.
    let refused = set_media(&app, room, host, &tokens[0], stop.clone()).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "SELF_TARGET", None);
    let refused = set_media(&app, room, stranger, &tokens[0], stop.clone()).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "NOT_ROOM_MEMBER", None);
    // A co-host cannot stop the creator.
    let (status, body) = put(
        &app,
        &format!("/api/challenges/{room}/cohosts/{member}"),
        &tokens[0],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let refused = set_media(&app, room, host, &tokens[1], stop.clone()).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "TARGET_IS_HOST", None);
    // Bad bodies.
    for body in [
        json!({"videoStopped": "yes"}),
        json!({"video": true}),
        json!([]),
    ] {
        let refused = set_media(&app, room, member, &tokens[0], body.clone()).await;
        assert_eq!(refused.0, StatusCode::BAD_REQUEST, "{body}: {}", refused.1);
    }
    let anonymous = app
        .call(
            Method::PUT,
            &format!("/api/challenges/{room}/participants/{member}/media"),
            None,
            Some(stop.clone()),
        )
        .await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", None);
    // Nothing was stopped: a tab joining gets no mediaStops.
    let mut ws = app.ws(&tokens[2]).await;
    ws.join(room, None).await;
    ws.expect_none_of("mediaStops", Duration::from_millis(300))
        .await;
    // Allowing again is allowed on anyone (nothing stopped: nothing changes).
    let (status, body) =
        set_media(&app, room, host, &tokens[1], json!({"videoStopped": false})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_block_keeps_two_members_media_apart_until_it_is_lifted() {
    let app = crate::support::spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host", "member", "viewer"]).await;
    let (_host, _member_ws, video, mut viewer, viewer_peer, member) =
        live_room(&app, room, &tokens).await;
    // The member blocks the viewer: the viewer gets none of the member's media.
    let viewer_id = user_id(&app, &tokens[2]).await;
    let (status, body) = put(&app, &format!("/api/me/blocks/{viewer_id}"), &tokens[1]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    viewer
        .receives_nothing_more(room, &viewer_peer, "the member\'s video")
        .await;
    // A new session of the viewer is held to it from the start.
    let fresh = viewer.start_media(room).await;
    viewer
        .send(
            json!({"type": "rtcView", "room": room, "tiles": [{"user": member, "size": "large"}]}),
        )
        .await;
    viewer
        .receives_nothing_more(room, &fresh, "the member\'s video")
        .await;
    // Lifted: the member's video reaches the viewer again.
    let (status, body) = delete(&app, &format!("/api/me/blocks/{viewer_id}"), &tokens[1]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    viewer.sees_video_of(room, &fresh, member).await;
    drop(viewer_peer);
    video.stop_video();
}
