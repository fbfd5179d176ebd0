//! Levels: what a user's all-time score amounts to, each level a little harder than the last.
//!
//! Everyone starts at level 1 with score 0. Going from level `L` to `L + 1` costs
//! `100 + 20·(L − 1)` points, so level 2 is reached at 100, level 3 at 220, level 4 at 360,
//! level 5 at 520, and in general level `L` at
//!
//! ```text
//! threshold(L) = Σ_{k=1}^{L−1} (100 + 20·(k − 1)) = 10·(L − 1)² + 90·(L − 1)
//! ```
//!
//! An achieved session is worth 10 points and a completed challenge 50, so the first level-up
//! takes about two weeks of a daily challenge, and each later one two more sessions than the
//! one before. Negative scores (which the ledger never produces) count as 0.

/// Points the first level-up costs.
pub const FIRST_STEP: i64 = 100;
/// How much more each further level-up costs than the one before.
pub const STEP_GROWTH: i64 = 20;

/// The score at which `level` is reached (0 for level 1 and below); saturates at `i64::MAX`.
pub fn level_threshold(level: u32) -> i64 {
    i64::try_from(threshold(level)).unwrap_or(i64::MAX)
}

/// [`level_threshold`] without the saturation (exact for every `u32` level).
fn threshold(level: u32) -> i128 {
    let n = i128::from(level.saturating_sub(1));
    // Σ_{k=0}^{n−1} (FIRST_STEP + STEP_GROWTH·k) = FIRST_STEP·n + STEP_GROWTH·n(n−1)/2
    i128::from(FIRST_STEP) * n + i128::from(STEP_GROWTH) * n * (n - 1) / 2
}

/// The level a score has reached: the highest `L` with `level_threshold(L) <= score`.
pub fn level_for(score: i64) -> u32 {
    if score < FIRST_STEP {
        return 1;
    }
    // threshold(n + 1) = 10n² + 90n ≤ score: start from the real root and correct the rounding.
    let root = ((8_100.0 + 40.0 * score as f64).sqrt() - 90.0) / 20.0;
    let mut level = (root.max(0.0) as u32).saturating_add(1);
    let score = i128::from(score);
    while level > 1 && threshold(level) > score {
        level -= 1;
    }
    while level < u32::MAX && threshold(level + 1) <= score {
        level += 1;
    }
    level
}

/// The score at which the level after `score`'s level is reached.
pub fn next_level_score(score: i64) -> i64 {
    level_threshold(level_for(score).saturating_add(1))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_documented_thresholds() {
        let thresholds: Vec<i64> = (1..=6).map(level_threshold).collect();
        assert_eq!(thresholds, vec![0, 100, 220, 360, 520, 700]);
        assert_eq!(level_for(0), 1);
        assert_eq!(level_for(-50), 1);
        assert_eq!(level_for(99), 1);
        assert_eq!(level_for(100), 2);
        assert_eq!(level_for(219), 2);
        assert_eq!(level_for(220), 3);
        assert_eq!(level_for(360), 4);
        assert_eq!(next_level_score(0), 100);
        assert_eq!(next_level_score(100), 220);
        assert_eq!(next_level_score(359), 360);
        assert_eq!(next_level_score(360), 520);
    }

    #[test]
    fn huge_scores_do_not_overflow() {
        let level = level_for(i64::MAX);
        assert!(level > 900_000_000);
        assert!(threshold(level) <= i128::from(i64::MAX));
        assert!(threshold(level + 1) > i128::from(i64::MAX));
        assert_eq!(next_level_score(i64::MAX), i64::MAX);
    }

    proptest! {
        #[test]
        fn levels_never_go_down_as_the_score_grows(a in -1_000i64..10_000_000, b in -1_000i64..10_000_000) {
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(level_for(low) <= level_for(high));
        }

        #[test]
        fn each_threshold_is_exactly_where_its_level_starts(level in 2u32..100_000) {
            let at = level_threshold(level);
            prop_assert_eq!(level_for(at), level);
            prop_assert_eq!(level_for(at - 1), level - 1);
            prop_assert_eq!(next_level_score(at - 1), at);
        }

        #[test]
        fn each_level_costs_twenty_more_than_the_last(level in 1u32..100_000) {
            let step = level_threshold(level + 1) - level_threshold(level);
            prop_assert_eq!(step, FIRST_STEP + STEP_GROWTH * i64::from(level - 1));
        }

        #[test]
        fn the_next_level_lies_ahead_and_is_one_up(score in 0i64..1_000_000_000_000) {
            let next = next_level_score(score);
            prop_assert!(next > score);
            prop_assert_eq!(level_for(next), level_for(score) + 1);
            prop_assert!(level_threshold(level_for(score)) <= score);
        }
    }
}
