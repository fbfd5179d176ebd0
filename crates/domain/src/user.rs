//! User profile rules: nickname and bio.

use crate::validation::{self, Invalid, Lines};

pub const NICKNAME_MIN: usize = 2;
pub const NICKNAME_MAX: usize = 20;
pub const BIO_MAX: usize = 300;

/// A validated nickname: 2–20 characters, one line, no white space at either end (so that
/// "kim" and "kim " cannot pass for each other).
pub fn nickname(value: &str) -> Result<String, Invalid> {
    let name = validation::text("nickname", value, NICKNAME_MIN, NICKNAME_MAX, Lines::Single)?;
    if name != value {
        return Err(Invalid::new(
            "nickname",
            validation::Reason::Format {
                expected: "no spaces at the start or end",
            },
        ));
    }
    Ok(name)
}

/// The key nicknames are unique by: case-insensitive, so "Kim" and "kim" cannot both exist.
pub fn nickname_key(nickname: &str) -> String {
    nickname.to_lowercase()
}

/// A validated bio (trimmed, at most 300 characters, may be empty).
pub fn bio(value: &str) -> Result<String, Invalid> {
    validation::text("bio", value, 0, BIO_MAX, Lines::Multi)
}

/// Turns a Kakao profile nickname (any length, possibly empty) into a candidate that passes
/// [`nickname`]; `attempt > 0` appends a number to make a taken name unique.
pub fn nickname_candidate(kakao_nickname: &str, attempt: u32) -> String {
    let cleaned: String = kakao_nickname
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let base = if cleaned.chars().count() < NICKNAME_MIN {
        format!("쓱관러{cleaned}")
    } else {
        cleaned
    };
    if attempt == 0 {
        let name: String = base
            .chars()
            .take(NICKNAME_MAX)
            .collect::<String>()
            .trim()
            .to_owned();
        if name.chars().count() >= NICKNAME_MIN {
            return name;
        }
        return format!("쓱관러{name}");
    }
    let suffix = attempt.to_string();
    let keep = NICKNAME_MAX - suffix.len();
    let mut name: String = base
        .chars()
        .take(keep)
        .collect::<String>()
        .trim_end()
        .to_owned();
    name.push_str(&suffix);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nickname_counts_characters_not_bytes() {
        assert!(nickname("쓱관").is_ok());
        assert!(nickname("가나다라마바사아자차카타파하가나다라마바").is_ok());
        assert!(nickname("가나다라마바사아자차카타파하가나다라마바사").is_err());
        assert!(nickname(" a ").is_err());
        assert!(nickname(" 쓱관").is_err(), "no leading space");
        assert!(nickname("쓱 관").is_ok(), "inner spaces are fine");
    }

    #[test]
    fn kakao_nickname_candidates_are_always_valid() {
        for raw in [
            "",
            "a",
            "홍길동",
            "a very long nickname from kakao that goes on",
        ] {
            for attempt in [0, 1, 12, 999_999] {
                let candidate = nickname_candidate(raw, attempt);
                assert!(
                    nickname(&candidate).is_ok(),
                    "{raw:?} #{attempt} gave {candidate:?}"
                );
            }
        }
    }
}
