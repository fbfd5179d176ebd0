//! Ssgwan's domain: the rules of challenges, schedules and users as pure functions over plain
//! data. Nothing here performs I/O or reads the system clock; callers pass `now` (see [`clock`]).

pub mod attendance;
pub mod award;
pub mod challenge;
pub mod chat;
pub mod clock;
#[cfg(test)]
mod fixtures;
pub mod ical;
pub mod level;
pub mod live;
pub mod moderation;
pub mod notification;
pub mod participation;
pub mod schedule;
pub mod stats;
pub mod tag;
pub mod upload;
pub mod user;
pub mod validation;

pub use challenge::{Category, ChallengeDraft, ChallengeSpec, ChallengeStatus};
pub use clock::{Clock, ManualClock, SystemClock};
pub use schedule::Schedule;
pub use validation::{Invalid, Reason};
