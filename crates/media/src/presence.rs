//! The presence meter: is a live camera behind this publisher's video? A pure state machine
//! driven by `(instant, frame facts)`, so its rule is tested in simulated time.
//!
//! Over a sliding window (`PresenceRules::window`) it counts distinct RTP timestamps (one per
//! frame) and payload bytes; the rule passes iff frames per second >= `min_fps` and mean bytes
//! per frame >= `min_bytes_per_frame`. A verified publisher stays verified while the rule fails
//! for less than `grace` (a hiccup); video that stopped arriving (no frame for
//! [`STALL_GAP`]) fails as `Stalled`. Until the first frame the verdict is `NoVideo`; while the
//! window is still filling (less than half a window of video) the verdict is held.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::{PresenceRules, Unverified, Verdict};

/// No frame for this long means the video has stopped (not merely slowed down).
pub const STALL_GAP: Duration = Duration::from_secs(1);

/// What the meter needs to know about one received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameFacts {
    /// The RTP timestamp (frames are told apart by it).
    pub rtp_time: u64,
    /// Payload bytes of the frame.
    pub bytes: usize,
    /// A keyframe, with its size when the header had one.
    pub keyframe: bool,
    /// The keyframe's width and height.
    pub size: Option<(u16, u16)>,
}

/// The meter of one publisher's video.
#[derive(Debug)]
pub struct PresenceMeter {
    rules: PresenceRules,
    /// (arrival, rtp time, bytes) of the frames in the window (a frame split over several
    /// deliveries with one timestamp counts once).
    frames: VecDeque<(Instant, u64, usize)>,
    run_started: Option<Instant>,
    last_frame: Option<Instant>,
    failing_since: Option<Instant>,
    size: Option<(u16, u16)>,
    last_keyframe_bytes: Option<usize>,
    verdict: Verdict,
}

impl PresenceMeter {
    /// A meter with no video yet (verdict: unverified, `NoVideo`).
    pub fn new(rules: PresenceRules) -> PresenceMeter {
        PresenceMeter {
            rules,
            frames: VecDeque::new(),
            run_started: None,
            last_frame: None,
            failing_since: None,
            size: None,
            last_keyframe_bytes: None,
            verdict: Verdict {
                verified: false,
                reason: Some(Unverified::NoVideo),
                fps: 0.0,
                bytes_per_frame: 0,
                width: None,
                height: None,
            },
        }
    }

    /// The current verdict.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// True while frames arrive (none missing for longer than [`STALL_GAP`]).
    pub fn is_live(&self, now: Instant) -> bool {
        self.last_frame
            .is_some_and(|t| now.saturating_duration_since(t) < STALL_GAP)
    }

    /// When the last frame arrived.
    pub fn last_frame(&self) -> Option<Instant> {
        self.last_frame
    }

    /// Payload bytes of the last keyframe.
    pub fn last_keyframe_bytes(&self) -> Option<usize> {
        self.last_keyframe_bytes
    }

    /// Records one received frame.
    pub fn on_frame(&mut self, now: Instant, facts: FrameFacts) {
        if !self.is_live(now) {
            self.run_started = Some(now);
        }
        self.last_frame = Some(now);
        if facts.keyframe {
            self.last_keyframe_bytes = Some(facts.bytes);
            if facts.size.is_some() {
                self.size = facts.size;
            }
        }
        match self.frames.back_mut() {
            Some(last) if last.1 == facts.rtp_time => last.2 = last.2.saturating_add(facts.bytes),
            _ => self.frames.push_back((now, facts.rtp_time, facts.bytes)),
        }
    }

    /// Re-evaluates the rule at `now`; returns the verdict when it changed (verified or reason).
    pub fn evaluate(&mut self, now: Instant) -> Option<Verdict> {
        let window_start = now.checked_sub(self.rules.window);
        while let Some(&(at, _, _)) = self.frames.front() {
            if window_start.is_some_and(|start| at < start) {
                self.frames.pop_front();
            } else {
                break;
            }
        }
        let previous = (self.verdict.verified, self.verdict.reason);
        let (fps, bytes_per_frame) = self.rates(now);
        self.verdict.fps = fps;
        self.verdict.bytes_per_frame = bytes_per_frame;
        self.verdict.width = self.size.map(|s| s.0);
        self.verdict.height = self.size.map(|s| s.1);

        match self.raw_failure(now, fps, bytes_per_frame) {
            Hold => {}
            Pass => {
                self.failing_since = None;
                self.verdict.verified = true;
                self.verdict.reason = None;
            }
            Fail(reason) => {
                let since = *self.failing_since.get_or_insert(now);
                let grace_over = now.saturating_duration_since(since) >= self.rules.grace;
                if !self.verdict.verified || grace_over {
                    self.verdict.verified = false;
                    self.verdict.reason = Some(reason);
                }
            }
        }
        ((self.verdict.verified, self.verdict.reason) != previous).then(|| self.verdict.clone())
    }

    fn rates(&self, now: Instant) -> (f64, u32) {
        let Some(run_started) = self.run_started else {
            return (0.0, 0);
        };
        let span = now
            .saturating_duration_since(run_started)
            .min(self.rules.window)
            .as_secs_f64();
        let frames = self.frames.len();
        if frames == 0 || span <= 0.0 {
            return (0.0, 0);
        }
        let bytes: usize = self.frames.iter().map(|f| f.2).sum();
        let per_frame = u32::try_from(bytes / frames).unwrap_or(u32::MAX);
        (frames as f64 / span, per_frame)
    }

    fn raw_failure(&self, now: Instant, fps: f64, bytes_per_frame: u32) -> Rule {
        let (Some(last), Some(run_started)) = (self.last_frame, self.run_started) else {
            return Fail(Unverified::NoVideo);
        };
        if now.saturating_duration_since(last) >= STALL_GAP {
            return Fail(Unverified::Stalled);
        }
        if now.saturating_duration_since(run_started) < self.rules.window / 2 {
            return Hold;
        }
        if fps < self.rules.min_fps {
            Fail(Unverified::LowFrameRate)
        } else if bytes_per_frame < self.rules.min_bytes_per_frame {
            Fail(Unverified::TinyFrames)
        } else {
            Pass
        }
    }
}

enum Rule {
    Pass,
    Fail(Unverified),
    /// Not enough video yet to judge: keep the verdict.
    Hold,
}
use Rule::{Fail, Hold, Pass};

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(100);

    /// Drives a meter in simulated time: frames at `fps` of `bytes` each for `for_how_long`,
    /// evaluating every 100 ms; returns every verdict change with its time offset.
    struct Sim {
        meter: PresenceMeter,
        start: Instant,
        now: Instant,
        rtp: u64,
        changes: Vec<(Duration, Verdict)>,
    }

    impl Sim {
        fn new() -> Sim {
            let start = Instant::now();
            Sim {
                meter: PresenceMeter::new(PresenceRules::default()),
                start,
                now: start,
                rtp: 0,
                changes: vec![],
            }
        }

        fn run(&mut self, fps: u32, bytes: usize, for_how_long: Duration) {
            let end = self.now + for_how_long;
            let frame_gap = (fps > 0).then(|| Duration::from_secs(1) / fps);
            let mut next_frame = self.now;
            let mut next_tick = self.now;
            while self.now < end {
                if let Some(gap) = frame_gap.filter(|_| next_frame <= next_tick) {
                    self.now = next_frame;
                    self.rtp += 90_000 / u64::from(fps);
                    let keyframe = self.rtp % (90_000 * 2) < 90_000 / u64::from(fps);
                    self.meter.on_frame(
                        self.now,
                        FrameFacts {
                            rtp_time: self.rtp,
                            bytes,
                            keyframe,
                            size: keyframe.then_some((640, 480)),
                        },
                    );
                    next_frame += gap;
                } else {
                    self.now = next_tick;
                    if let Some(v) = self.meter.evaluate(self.now) {
                        self.changes.push((self.now - self.start, v));
                    }
                    next_tick += TICK;
                }
            }
        }

        fn reason(&self) -> Option<Unverified> {
            self.meter.verdict().reason
        }
    }

    #[test]
    fn a_new_meter_says_no_video() {
        let mut sim = Sim::new();
        sim.run(0, 0, Duration::from_secs(5));
        assert!(!sim.meter.verdict().verified);
        assert_eq!(sim.reason(), Some(Unverified::NoVideo));
        assert!(sim.changes.is_empty(), "no change while nothing arrives");
    }

    #[test]
    fn a_live_camera_is_verified_within_the_window_and_reports_its_size() {
        let mut sim = Sim::new();
        sim.run(15, 2_500, Duration::from_secs(3));
        assert!(sim.meter.verdict().verified);
        let (at, verdict) = sim.changes.first().expect("a change to verified");
        assert!(verdict.verified);
        assert!(*at <= Duration::from_millis(1_200), "verified after {at:?}");
        let now = sim.meter.verdict();
        assert!((now.fps - 15.0).abs() < 1.5, "fps {}", now.fps);
        assert_eq!(now.bytes_per_frame, 2_500);
        assert_eq!((now.width, now.height), (Some(640), Some(480)));
    }

    #[test]
    fn tiny_frames_at_full_rate_are_not_a_camera() {
        let mut sim = Sim::new();
        sim.run(15, 40, Duration::from_secs(4));
        assert_eq!(sim.reason(), Some(Unverified::TinyFrames));
        assert!(sim.changes.iter().all(|(_, v)| !v.verified));
    }

    #[test]
    fn a_slow_trickle_of_frames_is_a_low_frame_rate() {
        let mut sim = Sim::new();
        sim.run(2, 5_000, Duration::from_secs(4));
        assert_eq!(sim.reason(), Some(Unverified::LowFrameRate));
    }

    #[test]
    fn a_hiccup_shorter_than_the_grace_keeps_the_verdict() {
        let mut sim = Sim::new();
        sim.run(15, 2_500, Duration::from_secs(3));
        sim.run(0, 0, Duration::from_millis(2_500));
        sim.run(15, 2_500, Duration::from_secs(2));
        assert!(sim.meter.verdict().verified);
        assert_eq!(sim.changes.len(), 1, "{:?}", sim.changes);
    }

    #[test]
    fn stopped_video_becomes_stalled_after_the_gap_and_the_grace() {
        let mut sim = Sim::new();
        sim.run(15, 2_500, Duration::from_secs(3));
        let stopped = sim.now - sim.start;
        sim.run(0, 0, Duration::from_secs(6));
        let (at, verdict) = sim.changes.last().expect("a change");
        assert_eq!(verdict.reason, Some(Unverified::Stalled));
        let after = *at - stopped;
        assert!(after >= STALL_GAP + PresenceRules::default().grace - TICK);
        assert!(after <= STALL_GAP + PresenceRules::default().grace + 2 * TICK);
    }

    #[test]
    fn video_that_turns_tiny_loses_the_verdict_after_the_grace() {
        let mut sim = Sim::new();
        sim.run(15, 2_500, Duration::from_secs(3));
        sim.run(15, 40, Duration::from_secs(2));
        assert!(sim.meter.verdict().verified, "still inside the grace");
        sim.run(15, 40, Duration::from_secs(4));
        assert_eq!(sim.reason(), Some(Unverified::TinyFrames));
    }

    #[test]
    fn a_resumed_camera_is_verified_again() {
        let mut sim = Sim::new();
        sim.run(15, 2_500, Duration::from_secs(3));
        sim.run(0, 0, Duration::from_secs(6));
        sim.run(15, 2_500, Duration::from_secs(3));
        assert!(sim.meter.verdict().verified);
        let kinds: Vec<_> = sim.changes.iter().map(|(_, v)| v.reason).collect();
        assert_eq!(kinds, vec![None, Some(Unverified::Stalled), None]);
    }

    #[test]
    fn thresholds_come_from_the_rules() {
        let mut sim = Sim::new();
        sim.meter = PresenceMeter::new(PresenceRules {
            min_fps: 20.0,
            ..PresenceRules::default()
        });
        sim.run(15, 2_500, Duration::from_secs(3));
        assert_eq!(sim.reason(), Some(Unverified::LowFrameRate));
    }
}
