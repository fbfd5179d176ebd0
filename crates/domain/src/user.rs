//! User profile rules: nickname and bio.
//!
//! Nicknames are what people tell each other apart by, so they are kept to what a reader can
//! see and compare: NFKC-normalized (fullwidth "ａｄｍｉｎ" is stored as "admin"), zero-width
//! characters dropped, no invisible or bidi-control characters, at most
//! [`NICKNAME_MAX_MARKS`] combining marks on a letter, and unique by a case-folded Unicode
//! TR39 confusable skeleton ([`nickname_skeleton`]), so "Admin", Cyrillic "аdmin" and "admin" are
//! one name.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::validation::{self, Invalid, Lines, Reason};

pub const NICKNAME_MIN: usize = 2;
pub const NICKNAME_MAX: usize = 20;
/// Most combining marks one base character may carry in a nickname, counted decomposed (NFD):
/// Vietnamese "ệ" is e with two.
pub const NICKNAME_MAX_MARKS: usize = 2;
pub const BIO_MAX: usize = 300;

/// Zero-width characters a nickname silently loses: they show nothing, so "adm\u{200b}in" is
/// "admin" (and then taken, if "admin" is). Variation selectors 15/16 (text or emoji
/// presentation) go too: they only pick how a symbol is drawn.
fn dropped(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{FE0E}' | '\u{FE0F}'
    )
}

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters drawn as
/// nothing, among them the Hangul fillers, variation selectors, bidi controls and the tag
/// characters.
fn default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// A character a nickname may not hold: invisible (format characters, default-ignorables,
/// the braille blank), a line or paragraph separator, or a surrogate/private-use code point.
fn invisible(c: char) -> bool {
    default_ignorable(c)
        || c == '\u{2800}'
        || matches!(
            c.general_category(),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
                | GeneralCategory::Surrogate
                | GeneralCategory::PrivateUse
        )
}

fn format_error(expected: &'static str) -> Invalid {
    Invalid::new("nickname", Reason::Format { expected })
}

/// The nickname as it is stored: NFKC, without the [`dropped`] zero-width characters.
fn normalize(value: &str) -> String {
    value.nfkc().filter(|c| !dropped(*c)).collect()
}

/// A validated nickname, as stored: 2–20 characters after NFKC normalization, one line, no
/// white space at either end (so that "kim" and "kim " cannot pass for each other), no
/// invisible or bidi-control characters, at most [`NICKNAME_MAX_MARKS`] combining marks per
/// base character.
pub fn nickname(value: &str) -> Result<String, Invalid> {
    let sent = validation::text("nickname", value, NICKNAME_MIN, NICKNAME_MAX, Lines::Single)?;
    if sent != value {
        return Err(format_error("no spaces at the start or end"));
    }
    let name = normalize(value);
    let name = validation::text("nickname", &name, NICKNAME_MIN, NICKNAME_MAX, Lines::Single)
        .and_then(|trimmed| {
            if trimmed == name {
                Ok(trimmed)
            } else {
                Err(format_error("no spaces at the start or end"))
            }
        })?;
    if name.chars().any(invisible) {
        return Err(format_error("visible characters only"));
    }
    let mut marks = 0;
    for c in name.nfd() {
        marks = if is_combining_mark(c) { marks + 1 } else { 0 };
        if marks > NICKNAME_MAX_MARKS {
            return Err(format_error("at most 2 combining marks on a letter"));
        }
    }
    Ok(name)
}

/// The exact key a nickname is looked up by: case-insensitive, so "Kim" and "kim" are one.
pub fn nickname_key(nickname: &str) -> String {
    nickname.to_lowercase()
}

/// What nicknames are unique by (the store keeps it in a UNIQUE column): the Unicode TR39
/// confusable skeleton of the lower-cased NFKC form. "Kim" and "kim" share one, and so do
/// "admin", "Admin", "аdmin" (Cyrillic а) and "ａｄｍｉｎ". Equal [`nickname_key`]s give
/// equal skeletons.
pub fn nickname_skeleton(nickname: &str) -> String {
    let folded = normalize(nickname).to_lowercase();
    unicode_security::skeleton(&folded).collect()
}

/// A validated bio (trimmed, at most 300 characters, may be empty).
pub fn bio(value: &str) -> Result<String, Invalid> {
    validation::text("bio", value, 0, BIO_MAX, Lines::Multi)
}

/// Turns a Kakao profile nickname (any length, possibly empty) into a candidate that passes
/// [`nickname`]; `attempt > 0` appends a number to make a taken name unique.
/// Characters [`nickname`] refuses are left out (so a Kakao name of only invisible characters
/// becomes "쓱관러"), and whatever still fails falls back to "쓱관러" plus the attempt number.
pub fn nickname_candidate(kakao_nickname: &str, attempt: u32) -> String {
    let raw = candidate(kakao_nickname, attempt);
    nickname(&raw).unwrap_or_else(|_| match attempt {
        0 => "쓱관러".to_owned(),
        n => format!("쓱관러{n}"),
    })
}

fn candidate(kakao_nickname: &str, attempt: u32) -> String {
    let mut marks = 0;
    let cleaned: String = normalize(kakao_nickname)
        .nfd()
        .filter(|c| !c.is_control() && !invisible(*c))
        .filter(|c| {
            marks = if is_combining_mark(*c) { marks + 1 } else { 0 };
            marks <= NICKNAME_MAX_MARKS
        })
        .nfkc()
        .collect::<String>()
        .trim()
        .to_owned();
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
            "\u{200B}\u{200B}",
            "\u{3164}\u{3164}",
            "\u{202E}nimda",
            "a\u{E0041}\u{E0042}",
            "e\u{301}\u{301}\u{301}\u{301}\u{301}",
            "ａｄｍｉｎ",
            "\u{FDFA}\u{FDFA}",
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

    fn refused(value: &str, expected: &'static str) {
        assert_eq!(
            nickname(value),
            Err(Invalid::new("nickname", Reason::Format { expected })),
            "{value:?}"
        );
    }

    #[test]
    fn ordinary_korean_and_english_names_pass_unchanged() {
        for name in [
            "쓱관러",
            "김민지",
            "Alice",
            "bob_99",
            "쓱 관",
            "Zoë",
            "Tiến",
            "مريم",
            "🐱고양이",
        ] {
            assert_eq!(nickname(name).as_deref(), Ok(name));
        }
    }

    #[test]
    fn nicknames_are_stored_nfkc_without_zero_width_characters() {
        assert_eq!(nickname("ａｄｍｉｎ").as_deref(), Ok("admin"));
        assert_eq!(nickname("adm\u{200B}in").as_deref(), Ok("admin"));
        assert_eq!(nickname("a\u{200D}\u{FEFF}b").as_deref(), Ok("ab"));
        assert_eq!(nickname("❤\u{FE0F}하트").as_deref(), Ok("❤하트"));
        // Conjoining jamo compose into the syllable.
        assert_eq!(
            nickname("\u{1100}\u{1175}\u{11B7}민지").as_deref(),
            Ok("김민지")
        );
        // Decomposed e + acute composes into one character.
        assert_eq!(nickname("Zoe\u{308}").as_deref(), Ok("Zoë"));
    }

    #[test]
    fn invisible_names_are_refused() {
        assert_eq!(
            nickname("\u{200B}\u{200B}"),
            Err(Invalid::new("nickname", Reason::Required))
        );
        assert!(
            nickname("a\u{200B}").is_err(),
            "one visible character is too short"
        );
        assert_eq!(
            nickname("a\u{200B} "),
            Err(Invalid::new(
                "nickname",
                Reason::Format {
                    expected: "no spaces at the start or end"
                }
            ))
        );
        for filler in ['\u{3164}', '\u{115F}', '\u{1160}', '\u{FFA0}'] {
            refused(&format!("{filler}{filler}"), "visible characters only");
            refused(&format!("김{filler}지"), "visible characters only");
        }
        refused("\u{2800}\u{2800}", "visible characters only");
        refused("ab\u{00AD}c", "visible characters only");
    }

    #[test]
    fn bidi_controls_and_other_format_characters_are_refused() {
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
            refused(&format!("ad{c}min"), "visible characters only");
        }
        refused("\u{202E}nimda", "visible characters only");
        refused("ab\u{200E}", "visible characters only");
        refused("ab\u{2061}c", "visible characters only");
        refused("ab\u{061C}c", "visible characters only");
        refused("ab\u{FE00}c", "visible characters only");
        refused("ab\u{E0100}c", "visible characters only");
        refused("ab\u{E000}c", "visible characters only");
        refused("a\u{2028}b", "visible characters only");
    }

    #[test]
    fn tag_characters_are_refused() {
        refused("admin\u{E0041}", "visible characters only");
        refused("\u{E0001}\u{E0061}\u{E0062}", "visible characters only");
        refused("ab\u{E007F}", "visible characters only");
    }

    #[test]
    fn at_most_two_combining_marks_per_letter() {
        assert!(nickname("a\u{301}\u{302}b").is_ok());
        assert!(nickname("a\u{301}\u{302}b\u{303}\u{304}").is_ok());
        assert!(nickname("Nguyễn Việt").is_ok());
        refused(
            "a\u{301}\u{302}\u{303}b",
            "at most 2 combining marks on a letter",
        );
        let zalgo = format!("a{}", "\u{301}".repeat(19));
        assert_eq!(zalgo.chars().count(), 20, "within the length limit");
        refused(&zalgo, "at most 2 combining marks on a letter");
    }

    #[test]
    fn the_length_counts_after_normalization() {
        // U+FDFA is one character that NFKC spells out in 18.
        assert_eq!(
            nickname("\u{FDFA}\u{FDFA}"),
            Err(Invalid::new("nickname", Reason::Length { min: 2, max: 20 }))
        );
    }

    #[test]
    fn lookalike_names_share_a_skeleton() {
        let admin = nickname_skeleton("admin");
        for lookalike in [
            "Admin",
            "ADMIN",
            "\u{430}dmin",
            "ａｄｍｉｎ",
            "adm\u{200B}in",
            "ΑDMIN",
        ] {
            assert_eq!(nickname_skeleton(lookalike), admin, "{lookalike:?}");
        }
        assert_eq!(nickname_skeleton("Kim"), nickname_skeleton("kim"));
        assert_ne!(nickname_skeleton("admin"), nickname_skeleton("admins"));
        assert_ne!(nickname_skeleton("김민지"), nickname_skeleton("김민주"));
        assert_ne!(nickname_skeleton("쓱관러"), nickname_skeleton("쓱관"));
    }
}

#[cfg(test)]
mod skeleton_size {
    use unicode_normalization::UnicodeNormalization;

    /// MySQL keeps the skeleton in a VARCHAR(255): twenty NFKC characters must fit.
    #[test]
    fn twenty_characters_have_a_skeleton_of_at_most_255() {
        // Planes 0–3 and 14 hold every assigned character but private use (refused anyway).
        let longest = (0..0x40000_u32)
            .chain(0xE0000..0xE1000)
            .filter_map(char::from_u32)
            .filter(|c| c.to_string().nfkc().eq(std::iter::once(*c)))
            .map(|c| super::nickname_skeleton(&c.to_string()).chars().count())
            .max()
            .unwrap_or(0);
        // 7 with Unicode 16's confusables: 140 for a full-length name.
        assert!(longest * super::NICKNAME_MAX <= 255, "{longest}");
    }
}
