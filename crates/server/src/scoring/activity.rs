//! What ranking entries and profiles show beside the standings: the level (from the all-time
//! score) and the points of each of the last seven days (the sparkline).
//!
//! Both come from the score ledger with one query for a whole page of users, never one per
//! user, and are cached per user until the boards change (the same version that invalidates the
//! rendered top entries) or the day turns in the server's timezone.

use std::collections::HashMap;

use jiff::civil::Date;
use ssgwan_domain::{
    level,
    stats::{RECENT_DAYS, day_bounds},
};
use ssgwan_store::StoreResult;

use super::Scoring;

/// A user's all-time score and the points they earned on each of the last [`RECENT_DAYS`]
/// days, oldest first (today last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Activity {
    pub total_score: i64,
    pub recent_scores: [i64; RECENT_DAYS],
}

impl Activity {
    pub fn level(&self) -> u32 {
        level::level_for(self.total_score)
    }

    pub fn next_level_score(&self) -> i64 {
        level::next_level_score(self.total_score)
    }
}

/// Most users whose activity is kept; beyond that the cache starts over.
const CACHED_USERS: usize = 100_000;

/// Activity per user, with the board version and day it was read for.
#[derive(Debug, Default)]
pub(super) struct ActivityCache {
    entries: std::sync::Mutex<HashMap<i64, (u64, Date, Activity)>>,
}

impl Scoring {
    /// The activity of each of `users` (users without points get zeros). Users not cached for
    /// the current board version and day are read with one store query, whatever their number.
    pub async fn activity(&self, users: &[i64]) -> StoreResult<HashMap<i64, Activity>> {
        let today = self.today();
        let version = self.version.load(std::sync::atomic::Ordering::Acquire);
        let mut found = HashMap::with_capacity(users.len());
        let mut missing = Vec::new();
        {
            let cache = self
                .activity
                .entries
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for &user in users {
                match cache.get(&user) {
                    Some((v, day, activity)) if *v == version && *day == today => {
                        found.insert(user, *activity);
                    }
                    _ => missing.push(user),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        missing.sort_unstable();
        missing.dedup();
        let bounds = day_bounds(today, RECENT_DAYS, self.calendar.timezone());
        let mut fetched: HashMap<i64, Activity> = missing
            .iter()
            .map(|&user| (user, Activity::default()))
            .collect();
        for row in self.scores.score_activity(&missing, &bounds).await? {
            let mut recent = [0; RECENT_DAYS];
            for (slot, points) in recent.iter_mut().zip(row.spans) {
                *slot = points;
            }
            fetched.insert(
                row.user_id,
                Activity {
                    total_score: row.total,
                    recent_scores: recent,
                },
            );
        }
        // Stored under the version read before the query: a score landing meanwhile bumps the
        // version, so these entries are read again next time rather than trusted.
        let mut cache = self
            .activity
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() + fetched.len() > CACHED_USERS {
            cache.clear();
        }
        for (&user, &activity) in &fetched {
            cache.insert(user, (version, today, activity));
        }
        drop(cache);
        found.extend(fetched);
        Ok(found)
    }

    /// One user's activity (see [`Ranking::activity`]); a cached one costs a map look-up and
    /// nothing else (this is on the path of every signed-in ranking read).
    pub async fn user_activity(&self, user: i64) -> StoreResult<Activity> {
        let today = self.today();
        let version = self.version.load(std::sync::atomic::Ordering::Acquire);
        if let Some((v, day, activity)) = self
            .activity
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user)
            && *v == version
            && *day == today
        {
            return Ok(*activity);
        }
        Ok(self
            .activity(&[user])
            .await?
            .remove(&user)
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_all_time_score() {
        let activity = Activity {
            total_score: 230,
            recent_scores: [0; RECENT_DAYS],
        };
        assert_eq!((activity.level(), activity.next_level_score()), (3, 360));
        assert_eq!(
            (
                Activity::default().level(),
                Activity::default().next_level_score()
            ),
            (1, 100)
        );
    }
}
