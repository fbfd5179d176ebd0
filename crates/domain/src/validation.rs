//! Validation failures as data: which field, and why. The HTTP edge turns a [`Reason`] into a
//! localized sentence; the domain only decides what is wrong.

/// Why a field was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Required,
    /// Text length outside `min..=max` characters (after trimming).
    Length {
        min: usize,
        max: usize,
    },
    /// Number outside `min..=max`.
    Range {
        min: i64,
        max: i64,
    },
    /// Not in the expected format (date, time, enum name, URL, …).
    Format {
        expected: &'static str,
    },
    /// A date that lies before today in the challenge's timezone.
    InPast,
    /// `endDate` before `startDate`, or `sessionEnd` not after `sessionStart`.
    NotAfter {
        other: &'static str,
    },
    /// A start date more than `max_days` after today.
    TooFarAhead {
        max_days: i64,
    },
    /// Dates more than `max_days` apart.
    SpanTooLong {
        max_days: i64,
    },
    /// The days of week never fall between start and end date: no session would ever happen.
    NoSessions,
    /// A list with the same value twice.
    Duplicate,
    /// A list with more than `max` items.
    TooMany {
        max: usize,
    },
}

/// One refused field. Validation stops at the first one so the message can name it exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub reason: Reason,
}

impl Invalid {
    pub fn new(field: &'static str, reason: Reason) -> Self {
        Self { field, reason }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:?}", self.field, self.reason)
    }
}

impl std::error::Error for Invalid {}

/// Whether a field may span lines (descriptions, bios) or not (titles, names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    Single,
    Multi,
}

/// Checks free text and returns it trimmed. The rules are ones an OpenAPI schema can state
/// exactly: at most `max` characters as sent (characters, not bytes: a Korean syllable is
/// one), no control characters (tabs and line breaks allowed in multi-line text), and, when
/// `min > 0`, at least `min` characters once surrounding white space is trimmed.
pub fn text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
    lines: Lines,
) -> Result<String, Invalid> {
    if value.chars().count() > max {
        return Err(Invalid::new(field, Reason::Length { min, max }));
    }
    no_controls(field, value, lines)?;
    let trimmed = value.trim();
    let count = trimmed.chars().count();
    if count < min {
        return Err(Invalid::new(
            field,
            if count == 0 {
                Reason::Required
            } else {
                Reason::Length { min, max }
            },
        ));
    }
    Ok(trimmed.to_owned())
}

/// Refuses control characters (tabs and line breaks are allowed in multi-line text).
pub fn no_controls(field: &'static str, value: &str, lines: Lines) -> Result<(), Invalid> {
    let allowed = |c: char| lines == Lines::Multi && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(Invalid::new(
            field,
            Reason::Format {
                expected: "text without control characters",
            },
        ));
    }
    Ok(())
}

/// A bidi embedding, override or isolate (U+202A–U+202E, U+2066–U+2069): it reorders the
/// text after it, so "gpj.exe" can be made to read "exe.jpg".
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Refuses [`is_bidi_control`] characters.
pub fn no_bidi_controls(field: &'static str, value: &str) -> Result<(), Invalid> {
    if value.chars().any(is_bidi_control) {
        return Err(Invalid::new(
            field,
            Reason::Format {
                expected: "text without bidi overrides or isolates",
            },
        ));
    }
    Ok(())
}

/// Checks `value` lies in `min..=max`.
pub fn range(field: &'static str, value: i64, min: i64, max: i64) -> Result<i64, Invalid> {
    if value < min || value > max {
        return Err(Invalid::new(field, Reason::Range { min, max }));
    }
    Ok(value)
}
