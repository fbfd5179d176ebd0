//! Live-room media rules: which members a tab may ask to see, and how large an SDP answer may
//! be. The media server itself enforces the rest (one video per user, never your own).

use crate::validation::{Invalid, Reason};

/// Video tiles a tab may show at once (one page of the grid).
pub const MAX_TILES: usize = 25;
/// The largest SDP answer a tab may send, in bytes (an answer to an offer with a 50-member
/// room's m-lines stays well under it).
pub const SDP_MAX_BYTES: usize = 64 * 1024;

/// Checks the users of an `rtcView`: at most [`MAX_TILES`], each at most once, never `me`.
/// (Users not in the room are allowed: they may arrive later.)
pub fn view_tiles(me: i64, users: &[i64]) -> Result<(), Invalid> {
    if users.len() > MAX_TILES {
        return Err(Invalid::new("tiles", Reason::TooMany { max: MAX_TILES }));
    }
    let mut seen = std::collections::HashSet::with_capacity(users.len());
    for user in users {
        if !seen.insert(*user) {
            return Err(Invalid::new("tiles", Reason::Duplicate));
        }
        if *user == me {
            return Err(Invalid::new(
                "tiles",
                Reason::Format {
                    expected: "other members' user ids, not your own",
                },
            ));
        }
    }
    Ok(())
}

/// Checks an SDP answer's size: 1 to [`SDP_MAX_BYTES`] bytes.
pub fn answer_sdp(sdp: &str) -> Result<(), Invalid> {
    if sdp.is_empty() || sdp.len() > SDP_MAX_BYTES {
        return Err(Invalid::new(
            "sdp",
            Reason::Length {
                min: 1,
                max: SDP_MAX_BYTES,
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_has_at_most_25_distinct_other_members() {
        let page: Vec<i64> = (2..27).collect();
        assert_eq!(view_tiles(1, &page), Ok(()));
        assert_eq!(view_tiles(1, &[]), Ok(()));
        let over: Vec<i64> = (2..28).collect();
        assert_eq!(
            view_tiles(1, &over),
            Err(Invalid::new("tiles", Reason::TooMany { max: 25 }))
        );
        assert_eq!(
            view_tiles(1, &[2, 3, 2]),
            Err(Invalid::new("tiles", Reason::Duplicate))
        );
        assert!(view_tiles(1, &[2, 1]).is_err(), "never yourself");
    }

    #[test]
    fn answers_are_between_one_byte_and_64_kib() {
        assert_eq!(answer_sdp("v=0\r\n"), Ok(()));
        assert!(answer_sdp("").is_err());
        assert_eq!(answer_sdp(&"a".repeat(SDP_MAX_BYTES)), Ok(()));
        assert!(answer_sdp(&"a".repeat(SDP_MAX_BYTES + 1)).is_err());
    }
}
