//! Chat message rules.

use crate::validation::{self, Invalid, Lines, Reason};

/// Longest message body, in characters (after trimming).
pub const BODY_MAX: usize = 1_000;

/// A message body as it is stored: trimmed, 1..=[`BODY_MAX`] characters (a Korean syllable is
/// one character), without control characters other than line breaks and tabs, and without
/// bidi overrides or isolates.
pub fn message_body(body: &str) -> Result<&str, Invalid> {
    validation::no_controls("body", body, Lines::Multi)?;
    validation::no_bidi_controls("body", body)?;
    let body = body.trim();
    let length = body.chars().count();
    if length == 0 || length > BODY_MAX {
        return Err(Invalid::new(
            "body",
            Reason::Length {
                min: 1,
                max: BODY_MAX,
            },
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_hold_one_to_a_thousand_characters() {
        assert_eq!(message_body("  안녕 \n"), Ok("안녕"));
        assert_eq!(message_body(&"가".repeat(1_000)).map(str::len), Ok(3_000));
        let refused = Err(Invalid::new("body", Reason::Length { min: 1, max: 1_000 }));
        assert_eq!(message_body("   "), refused);
        assert_eq!(message_body(&"a".repeat(1_001)), refused);
        assert_eq!(
            message_body(&format!(" {} ", "a".repeat(1_000))).map(str::len),
            Ok(1_000),
            "surrounding white space does not count"
        );
    }

    #[test]
    fn bodies_keep_line_breaks_and_tabs_but_refuse_other_controls_and_bidi_overrides() {
        assert_eq!(
            message_body("한 줄\n두 줄\r\n\t끝"),
            Ok("한 줄\n두 줄\r\n\t끝")
        );
        assert_eq!(
            message_body("مرحبا שלום"),
            Ok("مرحبا שלום"),
            "RTL letters are fine"
        );
        let control = Err(Invalid::new(
            "body",
            Reason::Format {
                expected: "text without control characters",
            },
        ));
        for body in ["a\u{0}b", "\u{7}", "a\u{1b}[31m", "a\u{7f}", "a\u{85}"] {
            assert_eq!(message_body(body), control, "{body:?}");
        }
        let bidi = Err(Invalid::new(
            "body",
            Reason::Format {
                expected: "text without bidi overrides or isolates",
            },
        ));
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
            assert_eq!(message_body(&format!("gpj{c}.exe")), bidi, "{c:?}");
        }
    }
}
