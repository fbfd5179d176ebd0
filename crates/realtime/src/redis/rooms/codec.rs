//! How presence and fan-out are written in Redis: a tab's value in a room's presence hash
//! (`<user>|<camera><mic>|<member info JSON>`), the flat replies of the presence scripts, and
//! the pub/sub message `<origin node>\n<target>\n<frame>`.

use std::collections::BTreeMap;

use super::PresenceEvent;
use crate::{Eviction, Media, Member, MemberInfo, RealtimeError, RealtimeResult, RoomId, UserId};

/// A tab's value in a room's presence hash.
pub(super) fn encode_tab(info: &MemberInfo, media: Media) -> String {
    let json = serde_json::to_string(info).unwrap_or_else(|_| "{}".into());
    format!(
        "{}|{}{}|{json}",
        info.user_id,
        u8::from(media.camera),
        u8::from(media.mic)
    )
}

fn decode_tab(value: &str) -> RealtimeResult<(MemberInfo, Media)> {
    let bad = || RealtimeError::Unexpected(format!("not a presence entry: {value:?}"));
    let mut parts = value.splitn(3, '|');
    let (_user, media, json) = match (parts.next(), parts.next(), parts.next()) {
        (Some(user), Some(media), Some(json)) => (user, media, json),
        _ => return Err(bad()),
    };
    let info: MemberInfo = serde_json::from_str(json).map_err(|_| bad())?;
    let media = parse_media(media).ok_or_else(bad)?;
    Ok((info, media))
}

/// Media written as `"cm"`, each `0` or `1`.
pub(super) fn parse_media(cm: &str) -> Option<Media> {
    match cm.as_bytes() {
        [c, m] => Some(Media {
            camera: *c == b'1',
            mic: *m == b'1',
        }),
        _ => None,
    }
}

/// Members (by user id) from a flat `field, value, …` list; `me` overrides the info of its user.
pub(super) fn members_of(flat: &[String], me: Option<&MemberInfo>) -> RealtimeResult<Vec<Member>> {
    let mut members: BTreeMap<UserId, Member> = BTreeMap::new();
    for pair in flat.chunks(2) {
        let [_field, value] = pair else {
            return Err(RealtimeError::Unexpected("odd presence reply".into()));
        };
        let (info, media) = decode_tab(value)?;
        let member = members.entry(info.user_id).or_insert_with(|| Member {
            info: me
                .filter(|m| m.user_id == info.user_id)
                .cloned()
                .unwrap_or(info),
            camera: false,
            mic: false,
        });
        member.camera |= media.camera;
        member.mic |= media.mic;
    }
    Ok(members.into_values().collect())
}

/// Events from a flat `room, kind, "cm", value, …` list.
pub(super) fn events_of(flat: &[String]) -> Vec<PresenceEvent> {
    flat.chunks(4)
        .filter_map(|event| {
            let [room, kind, media, value] = event else {
                return None;
            };
            let room: RoomId = room.parse().ok()?;
            let (info, _) = decode_tab(value).ok()?;
            let media = parse_media(media)?;
            let member = Member {
                info,
                camera: media.camera,
                mic: media.mic,
            };
            match kind.as_str() {
                "joined" => Some(PresenceEvent::Joined { room, member }),
                "left" => Some(PresenceEvent::Left { room, member }),
                "changed" => Some(PresenceEvent::Changed { room, member }),
                _ => None,
            }
        })
        .collect()
}

/// Who a pub/sub message is for: `*` (everyone), `-<user>` (everyone but that user),
/// `~<user>,<user>,…` (everyone but those users) or `=<user>` (that user only); or `!` for a
/// control message, whose body is an [`Eviction`] as JSON rather than a frame for clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    All,
    AllBut(UserId),
    AllButMany(Vec<UserId>),
    User(UserId),
    Control,
}

impl Target {
    fn encode(&self) -> String {
        match self {
            Target::All => "*".into(),
            Target::AllBut(user) => format!("-{user}"),
            Target::AllButMany(users) => {
                let users: Vec<String> = users.iter().map(UserId::to_string).collect();
                format!("~{}", users.join(","))
            }
            Target::User(user) => format!("={user}"),
            Target::Control => "!".into(),
        }
    }

    fn decode(text: &str) -> Option<Target> {
        if text == "*" {
            return Some(Target::All);
        }
        if text == "!" {
            return Some(Target::Control);
        }
        let (kind, user) = text.split_at_checked(1)?;
        if kind == "~" {
            let users: Option<Vec<UserId>> = user.split(',').map(|u| u.parse().ok()).collect();
            return users.map(Target::AllButMany);
        }
        let user = user.parse().ok()?;
        match kind {
            "-" => Some(Target::AllBut(user)),
            "=" => Some(Target::User(user)),
            _ => None,
        }
    }
}

/// A pub/sub message from `origin` for `target`.
pub(super) fn encode_message(origin: &str, target: &Target, frame: &str) -> String {
    format!("{origin}\n{}\n{frame}", target.encode())
}

/// The origin, target and frame of a pub/sub message; `None` when it is not one of ours.
pub(super) fn decode_message(payload: &[u8]) -> Option<(&str, Target, &str)> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.splitn(3, '\n');
    let (origin, target, frame) = (parts.next()?, parts.next()?, parts.next()?);
    Some((origin, Target::decode(target)?, frame))
}

/// The pub/sub message that carries `eviction` from `origin`.
pub(super) fn encode_eviction(origin: &str, eviction: &Eviction) -> String {
    let json = serde_json::to_string(eviction).unwrap_or_else(|_| "{}".into());
    encode_message(origin, &Target::Control, &json)
}

/// The eviction a control message carries; `None` when it is not one.
pub(super) fn decode_eviction(body: &str) -> Option<Eviction> {
    serde_json::from_str(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evictions_round_trip_as_control_messages() {
        let eviction = Eviction {
            room: -4,
            user: Some(4),
            session: Some("ab\ncd".into()),
            reason: crate::Revocation::SignedOut,
        };
        let message = encode_eviction("node", &eviction);
        let (origin, target, body) = decode_message(message.as_bytes()).expect("ours");
        assert_eq!((origin, target), ("node", Target::Control));
        assert_eq!(decode_eviction(body), Some(eviction));
    }

    #[test]
    fn targets_round_trip() {
        for target in [
            Target::All,
            Target::AllBut(-3),
            Target::AllButMany(vec![4, 5, 6]),
            Target::User(7),
        ] {
            let message = encode_message("n", &target, "{}");
            let (_, decoded, frame) = decode_message(message.as_bytes()).expect("ours");
            assert_eq!((decoded, frame), (target, "{}"));
        }
    }

    #[test]
    fn presence_entries_round_trip() {
        let info = MemberInfo {
            user_id: -3,
            nickname: "a|b\nc".into(),
            profile_image: Some("x".into()),
        };
        let media = Media {
            camera: true,
            mic: false,
        };
        assert_eq!(
            decode_tab(&encode_tab(&info, media)).ok(),
            Some((info, media))
        );
    }
}
