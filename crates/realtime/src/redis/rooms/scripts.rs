//! The presence scripts, in `redis/lua/rooms/`: each is the shared prelude (KEYS[1] the
//! `prefix:`, ARGV[1] this node, and the helpers that read tabs and liveness) followed by its
//! body, whose first lines say its other arguments and its answer.

use std::sync::LazyLock;

use ::redis::Script;

use crate::redis::with_prelude;

const PRELUDE: &str = include_str!("../lua/rooms/prelude.lua");

fn script(body: &str) -> Script {
    with_prelude(PRELUDE, body)
}

pub(super) static JOIN: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("../lua/rooms/join.lua")));
pub(super) static LEAVE: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("../lua/rooms/leave.lua")));
pub(super) static SET_MEDIA: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("../lua/rooms/set_media.lua")));
pub(super) static MEMBERS: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("../lua/rooms/members.lua")));
pub(super) static SEND_TO_USER: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("../lua/rooms/send_to_user.lua")));
pub(super) static SWEEP: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("../lua/rooms/sweep.lua")));
pub(super) static RESYNC_ROOM: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("../lua/rooms/resync_room.lua")));
