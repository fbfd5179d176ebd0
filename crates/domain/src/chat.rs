//! Chat message rules.

use crate::validation::{Invalid, Reason};

/// Longest message body, in characters (after trimming).
pub const BODY_MAX: usize = 1_000;

/// A message body as it is stored: trimmed, 1..=[`BODY_MAX`] characters (a Korean syllable is
/// one character).
pub fn message_body(body: &str) -> Result<&str, Invalid> {
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
}
