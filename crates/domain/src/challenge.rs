//! What a challenge is and which inputs make a valid one.

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    schedule::{
        DaySet, ParseDaysError, Schedule, format_time_of_day, parse_date, parse_time_of_day,
    },
    validation::{self, Invalid, Lines, Reason},
};

pub use crate::schedule::ChallengeStatus;

pub const TITLE_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 5_000;
pub const CAPACITY_MIN: i64 = 2;
pub const CAPACITY_MAX: i64 = 50;
pub const MAX_SPAN_DAYS: i64 = 100;
/// How far ahead a challenge may start: recruiting for longer than a year helps nobody.
pub const MAX_DAYS_AHEAD: i64 = 365;
pub const DEFAULT_TIMEZONE: &str = "Asia/Seoul";
pub const DEFAULT_SUCCESS_RATE: i64 = 80;
/// Longest notice, in characters.
pub const NOTICE_MAX: usize = 1_000;
/// How much one participant weighs against one wish in [`popularity`].
pub const PARTICIPANT_WEIGHT: i64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Study,
    Workout,
    Morning,
    Reading,
    Hobby,
    Etc,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Self::Study,
        Self::Workout,
        Self::Morning,
        Self::Reading,
        Self::Hobby,
        Self::Etc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Study => "STUDY",
            Self::Workout => "WORKOUT",
            Self::Morning => "MORNING",
            Self::Reading => "READING",
            Self::Hobby => "HOBBY",
            Self::Etc => "ETC",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

/// A challenge as a client proposes it: every field optional and unparsed, so that validation
/// can name exactly which one is wrong. Also the shape of a partial edit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChallengeDraft {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    /// `Some(None)` clears the thumbnail in an edit.
    pub thumbnail: Option<Option<String>>,
    pub capacity: Option<i64>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub days_of_week: Option<Vec<String>>,
    pub session_start: Option<String>,
    pub session_end: Option<String>,
    pub timezone: Option<String>,
    pub min_minutes: Option<i64>,
    pub success_rate: Option<i64>,
    /// Up to five tags (see [`crate::tag`]); absent means none on create, unchanged on edit.
    pub tags: Option<Vec<String>>,
}

/// A valid challenge definition.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeSpec {
    pub title: String,
    pub description: String,
    pub category: Category,
    pub thumbnail: Option<String>,
    pub capacity: i64,
    pub schedule: Schedule,
    /// Minutes on camera that make a session attended (1..=session length).
    pub min_minutes: i64,
    /// Percent of scheduled sessions to attend to complete (1..=100).
    pub success_rate: i64,
    /// Tags as shown, in the creator's order, unique ignoring case.
    pub tags: Vec<String>,
}

impl ChallengeDraft {
    /// Overlays the fields present in `edit` on `self`.
    pub fn overlay(mut self, edit: ChallengeDraft) -> ChallengeDraft {
        macro_rules! take {
            ($($field:ident),*) => { $( if edit.$field.is_some() { self.$field = edit.$field; } )* };
        }
        take!(
            title,
            description,
            category,
            thumbnail,
            capacity,
            start_date,
            end_date,
            days_of_week,
            session_start,
            session_end,
            timezone,
            min_minutes,
            success_rate,
            tags
        );
        self
    }

    /// Checks every field and returns the first offending one. `now` decides what "the past" is,
    /// in the challenge's own timezone.
    pub fn validate(&self, now: Timestamp) -> Result<ChallengeSpec, Invalid> {
        let title = validation::text(
            "title",
            self.title.as_deref().unwrap_or(""),
            1,
            TITLE_MAX,
            Lines::Single,
        )?;
        let description = validation::text(
            "description",
            self.description.as_deref().unwrap_or(""),
            0,
            DESCRIPTION_MAX,
            Lines::Multi,
        )?;
        let category = match self.category.as_deref() {
            None => return Err(Invalid::new("category", Reason::Required)),
            Some(c) => Category::parse(c).ok_or(Invalid::new(
                "category",
                Reason::Format {
                    expected: "STUDY|WORKOUT|MORNING|READING|HOBBY|ETC",
                },
            ))?,
        };
        let thumbnail = match self.thumbnail.clone().flatten() {
            None => None,
            Some(t) => Some(crate::upload::uploaded_image("thumbnail", &t)?),
        };
        let capacity = validation::range(
            "capacity",
            self.capacity
                .ok_or(Invalid::new("capacity", Reason::Required))?,
            CAPACITY_MIN,
            CAPACITY_MAX,
        )?;

        let timezone_name = self
            .timezone
            .clone()
            .unwrap_or_else(|| DEFAULT_TIMEZONE.to_owned());
        let timezone = (timezone_name.len() <= 64 && !timezone_name.is_empty())
            .then(|| TimeZone::get(&timezone_name).ok())
            .flatten()
            .ok_or(Invalid::new(
                "timezone",
                Reason::Format {
                    expected: "an IANA timezone name such as Asia/Seoul",
                },
            ))?;

        let start_date = date("startDate", self.start_date.as_deref())?;
        let end_date = date("endDate", self.end_date.as_deref())?;
        let today = now.to_zoned_datetime(timezone.clone()).date();
        if start_date < today {
            return Err(Invalid::new("startDate", Reason::InPast));
        }
        if start_date > today.saturating_add(jiff::Span::new().days(MAX_DAYS_AHEAD)) {
            return Err(Invalid::new(
                "startDate",
                Reason::TooFarAhead {
                    max_days: MAX_DAYS_AHEAD,
                },
            ));
        }
        if end_date < start_date {
            return Err(Invalid::new(
                "endDate",
                Reason::NotAfter { other: "startDate" },
            ));
        }
        let span = start_date
            .until(end_date)
            .map(|s| i64::from(s.get_days()))
            .unwrap_or(i64::MAX);
        if span > MAX_SPAN_DAYS {
            return Err(Invalid::new(
                "endDate",
                Reason::SpanTooLong {
                    max_days: MAX_SPAN_DAYS,
                },
            ));
        }

        let days = match &self.days_of_week {
            None => DaySet::ALL,
            Some(names) => DaySet::from_names(names).map_err(|e| {
                Invalid::new(
                    "daysOfWeek",
                    match e {
                        ParseDaysError::Empty => Reason::Required,
                        ParseDaysError::Duplicate => Reason::Duplicate,
                        ParseDaysError::Unknown => Reason::Format {
                            expected: "MON|TUE|WED|THU|FRI|SAT|SUN",
                        },
                    },
                )
            })?,
        };
        let session_start = time("sessionStart", self.session_start.as_deref())?;
        let session_end = time("sessionEnd", self.session_end.as_deref())?;
        if session_end <= session_start {
            return Err(Invalid::new(
                "sessionEnd",
                Reason::NotAfter {
                    other: "sessionStart",
                },
            ));
        }
        let schedule = Schedule {
            start_date,
            end_date,
            days,
            session_start,
            session_end,
            timezone,
            timezone_name,
        };
        if schedule.count_sessions(start_date, end_date) == 0 {
            return Err(Invalid::new("daysOfWeek", Reason::NoSessions));
        }
        if schedule.ends_at() <= now {
            return Err(Invalid::new("sessionEnd", Reason::InPast));
        }
        let min_minutes = validation::range(
            "minMinutes",
            self.min_minutes
                .ok_or(Invalid::new("minMinutes", Reason::Required))?,
            1,
            schedule.session_minutes(),
        )?;
        let success_rate = validation::range(
            "successRate",
            self.success_rate.unwrap_or(DEFAULT_SUCCESS_RATE),
            1,
            100,
        )?;
        let tags = crate::tag::tags(self.tags.as_deref().unwrap_or_default())?;

        Ok(ChallengeSpec {
            title,
            description,
            category,
            thumbnail,
            capacity,
            schedule,
            min_minutes,
            success_rate,
            tags,
        })
    }
}

impl ChallengeSpec {
    /// The same definition as a draft, the base an edit is overlaid on.
    pub fn to_draft(&self) -> ChallengeDraft {
        let s = &self.schedule;
        ChallengeDraft {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            category: Some(self.category.as_str().to_owned()),
            thumbnail: Some(self.thumbnail.clone()),
            capacity: Some(self.capacity),
            start_date: Some(s.start_date.to_string()),
            end_date: Some(s.end_date.to_string()),
            days_of_week: Some(s.days.names().into_iter().map(str::to_owned).collect()),
            session_start: Some(format_time_of_day(s.session_start)),
            session_end: Some(format_time_of_day(s.session_end)),
            timezone: Some(s.timezone_name.clone()),
            min_minutes: Some(self.min_minutes),
            success_rate: Some(self.success_rate),
            tags: Some(self.tags.clone()),
        }
    }

    /// On-camera seconds that make one of its sessions attended ([`Self::min_minutes`] minutes).
    pub fn required_seconds(&self) -> i64 {
        self.min_minutes * 60
    }

    /// What the participation rules look at, with `participant_count` places held now.
    pub fn facts(
        &self,
        creator_id: i64,
        participant_count: i64,
    ) -> crate::participation::ChallengeFacts {
        crate::participation::ChallengeFacts {
            creator_id,
            starts_at: self.schedule.starts_at(),
            ends_at: self.schedule.ends_at(),
            capacity: self.capacity,
            participant_count,
        }
    }

    /// Text the search matches against: title, description and tags (each as `#tag`, so both
    /// "영어" and "#영어" find it), lower-cased with Unicode rules so that case-insensitive
    /// search works the same on every database.
    pub fn search_text(&self) -> String {
        let tags: Vec<String> = self.tags.iter().map(|t| format!("#{t}")).collect();
        format!("{}\n{}\n{}", self.title, self.description, tags.join(" ")).to_lowercase()
    }
}

/// Checks a notice (the creator's announcement to the participants): at most 1,000
/// characters, line breaks allowed, trimmed. Blank clears it (`None`).
pub fn notice(value: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = validation::text("notice", value, 0, NOTICE_MAX, Lines::Multi)?;
    Ok(Some(text).filter(|t| !t.is_empty()))
}

/// How `sort=popular` orders challenges: two points per participant and one per wish, so a
/// place taken counts for more than a bookmark but a much-wished challenge still rises.
/// (The database keeps the same expression as the `popularity` column.)
pub fn popularity(participant_count: i64, wish_count: i64) -> i64 {
    PARTICIPANT_WEIGHT * participant_count + wish_count
}

fn date(field: &'static str, value: Option<&str>) -> Result<jiff::civil::Date, Invalid> {
    let value = value.ok_or(Invalid::new(field, Reason::Required))?;
    parse_date(value).ok_or(Invalid::new(
        field,
        Reason::Format {
            expected: "YYYY-MM-DD",
        },
    ))
}

fn time(field: &'static str, value: Option<&str>) -> Result<jiff::civil::Time, Invalid> {
    let value = value.ok_or(Invalid::new(field, Reason::Required))?;
    parse_time_of_day(value).ok_or(Invalid::new(field, Reason::Format { expected: "HH:MM" }))
}

#[cfg(test)]
mod tests {
    use crate::fixtures::spec;

    #[test]
    fn a_session_is_attended_after_min_minutes_on_camera() {
        assert_eq!(spec().required_seconds(), 1_800);
    }

    #[test]
    fn facts_carry_the_schedule_bounds_and_capacity() {
        let spec = spec();
        let facts = spec.facts(7, 3);
        assert_eq!(facts.creator_id, 7);
        assert_eq!(facts.starts_at, spec.schedule.starts_at());
        assert_eq!(facts.ends_at, spec.schedule.ends_at());
        assert_eq!((facts.capacity, facts.participant_count), (5, 3));
    }
}
