//! Challenge tags: short words people filter and browse by ("#영어", "#morning").
//!
//! A tag is typed with or without its `#`; what is kept is the word itself, trimmed. Tags
//! compare case-insensitively (their [`tag_key`]), so one challenge cannot carry "Run" and
//! "run", and a filter for "RUN" finds both spellings on different challenges.

use crate::validation::{Invalid, Reason};

/// Most tags on one challenge.
pub const TAGS_MAX: usize = 5;
/// Longest tag, in characters, without the `#`.
pub const TAG_MAX_CHARS: usize = 20;

/// What a tag looks like, for error messages.
const TAG_FORMAT: &str = "one word without spaces, '#' or ',' (a leading '#' is fine)";

/// Checks one tag as typed and returns it as stored: surrounding white space trimmed, one
/// leading `#` dropped, then 1–20 characters none of which is white space, a control
/// character, `#` or `,`.
pub fn tag(field: &'static str, value: &str) -> Result<String, Invalid> {
    let trimmed = value.trim();
    let word = trimmed.strip_prefix('#').unwrap_or(trimmed);
    if word
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | ','))
    {
        return Err(Invalid::new(
            field,
            Reason::Format {
                expected: TAG_FORMAT,
            },
        ));
    }
    let count = word.chars().count();
    if count == 0 {
        return Err(Invalid::new(field, Reason::Required));
    }
    if count > TAG_MAX_CHARS {
        return Err(Invalid::new(
            field,
            Reason::Length {
                min: 1,
                max: TAG_MAX_CHARS,
            },
        ));
    }
    Ok(word.to_owned())
}

/// Checks a challenge's tags: at most five, each as [`tag`] says, no two the same ignoring
/// case. Returns them in the order given.
pub fn tags(values: &[String]) -> Result<Vec<String>, Invalid> {
    if values.len() > TAGS_MAX {
        return Err(Invalid::new("tags", Reason::TooMany { max: TAGS_MAX }));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let tag = tag("tags", value)?;
        if out.iter().any(|t| tag_key(t) == tag_key(&tag)) {
            return Err(Invalid::new("tags", Reason::Duplicate));
        }
        out.push(tag);
    }
    Ok(out)
}

/// The key tags are unique and filtered by: Unicode lower case.
pub fn tag_key(tag: &str) -> String {
    tag.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn tags_are_trimmed_and_lose_one_leading_hash() {
        assert_eq!(
            tags(&strings(&[" #영어 ", "Morning", "#러닝크루", "a"])),
            Ok(strings(&["영어", "Morning", "러닝크루", "a"]))
        );
        assert_eq!(tags(&[]), Ok(Vec::new()));
        assert_eq!(tag("tag", &"가".repeat(20)), Ok("가".repeat(20)));
        assert_eq!(
            tag("tag", &format!("#{}", "가".repeat(20))),
            Ok("가".repeat(20)),
            "the # does not count"
        );
    }

    #[test]
    fn bad_tags_name_the_field_and_the_reason() {
        let reason = |values: &[&str]| tags(&strings(values)).map_err(|e| (e.field, e.reason));
        assert_eq!(
            reason(&["a", "b", "c", "d", "e", "f"]),
            Err(("tags", Reason::TooMany { max: 5 }))
        );
        assert_eq!(
            reason(&["Run", "run"]),
            Err(("tags", Reason::Duplicate)),
            "case-insensitive"
        );
        assert_eq!(reason(&["#Run", " RUN"]), Err(("tags", Reason::Duplicate)));
        for blank in ["", "   ", "#", " # "] {
            assert_eq!(
                reason(&[blank]),
                Err(("tags", Reason::Required)),
                "{blank:?}"
            );
        }
        assert_eq!(
            reason(&[&"a".repeat(21)]),
            Err(("tags", Reason::Length { min: 1, max: 20 }))
        );
        for bad in [
            "two words",
            "a,b",
            "##a",
            "a#b",
            "tab\there",
            "nul\u{0}",
            "# a",
        ] {
            assert!(
                matches!(reason(&[bad]), Err(("tags", Reason::Format { .. }))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn keys_ignore_case() {
        assert_eq!(tag_key("MorningRUN"), "morningrun");
        assert_eq!(tag_key("영어"), "영어");
    }
}
