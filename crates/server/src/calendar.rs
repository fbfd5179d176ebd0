//! The server's calendar: the injected clock and the server's timezone (`--timezone`), in which
//! ranking weeks and months and statistics days are counted. Challenges keep their own
//! timezones (see the domain's schedules); this is only for what belongs to no challenge.

use std::sync::Arc;

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use ssgwan_domain::Clock;

#[derive(Clone)]
pub struct Calendar {
    clock: Arc<dyn Clock>,
    timezone: TimeZone,
}

impl Calendar {
    pub fn new(clock: Arc<dyn Clock>, timezone: TimeZone) -> Self {
        Self { clock, timezone }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn timezone(&self) -> &TimeZone {
        &self.timezone
    }

    /// Today in the server's timezone.
    pub fn today(&self) -> Date {
        self.day_of(self.now())
    }

    /// The date of `at` in the server's timezone.
    pub fn day_of(&self, at: Timestamp) -> Date {
        at.to_zoned_datetime(self.timezone.clone()).date()
    }

    /// The instant `date` begins in the server's timezone (`None` past the supported range).
    pub fn start_of(&self, date: Date) -> Option<Timestamp> {
        date.to_zoned_datetime(self.timezone.clone())
            .ok()
            .map(|z| z.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use ssgwan_domain::ManualClock;

    use super::*;

    #[test]
    fn days_turn_at_midnight_in_the_server_timezone() {
        // 15:00 UTC is midnight in Seoul.
        let clock = Arc::new(ManualClock::new(
            "2026-03-01T14:59:59Z".parse().expect("instant"),
        ));
        let calendar = Calendar::new(clock.clone(), TimeZone::get("Asia/Seoul").expect("tz"));
        assert_eq!(calendar.today(), jiff::civil::date(2026, 3, 1));
        clock.set("2026-03-01T15:00:00Z".parse().expect("instant"));
        assert_eq!(calendar.today(), jiff::civil::date(2026, 3, 2));
        assert_eq!(
            calendar.start_of(jiff::civil::date(2026, 3, 2)),
            Some("2026-03-01T15:00:00Z".parse().expect("instant"))
        );
    }
}
