//! Session reminders, exactly once on any number of nodes.
//!
//! Every pass reads the active participants of challenges under way (or about to start) with
//! their settings, and asks the domain schedule, in each challenge's timezone, for the reminder
//! of the participant's next session that has not started ([`due_reminder`]). A due one is
//! claimed by creating its notification with the dedupe key `reminder:<challenge>:<date>`: the
//! database's unique index lets exactly one insert through, whichever node tries, and only the
//! node that got it delivers. A node that was down sends, when it returns, the reminders of
//! sessions that have not started yet and never those of sessions already under way.

use std::{sync::Arc, time::Duration};

use jiff::SignedDuration;
use ssgwan_domain::{
    Clock,
    attendance::ParticipantSchedule,
    notification::{Details, Kind, MAX_MINUTES_BEFORE, Settings, due_reminder},
};
use ssgwan_store::{NotificationStore, StoreResult};
use tokio::sync::{mpsc, oneshot};

use crate::{notifications::Notifier, tasks::Background};

/// Candidates read per query.
const PAGE: i64 = 500;

/// Sends every reminder due now; returns how many this node sent.
pub async fn send_due(
    store: &dyn NotificationStore,
    notifier: &Notifier,
    clock: &dyn Clock,
) -> StoreResult<usize> {
    if notifier.paused() {
        return Ok(0);
    }
    let now = clock.now();
    // A challenge's first session starts no earlier than its start date's midnight.
    let until = now
        .checked_add(SignedDuration::from_mins(MAX_MINUTES_BEFORE))
        .unwrap_or(now);
    let mut after = None;
    let mut sent = 0;
    loop {
        let page = store.reminder_candidates(now, until, after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(sent);
        };
        after = Some((last.challenge.id, last.user_id));
        let full = page.len() as i64 == PAGE;
        for candidate in page {
            let settings = candidate
                .settings
                .as_ref()
                .map_or_else(Settings::defaults, |s| notifier.settings_from(s));
            if !settings.kinds.contains(Kind::SessionReminder) {
                continue;
            }
            let schedule = &candidate.challenge.spec.schedule;
            let participant = ParticipantSchedule::new(schedule, candidate.joined_at);
            let lead = SignedDuration::from_mins(settings.minutes_before);
            let Some(reminder) = due_reminder(&participant, lead, now) else {
                continue;
            };
            // Whole minutes left, rounded up: on time that is the user's lead.
            let left = reminder.session_start.duration_since(now).as_secs();
            let details = Details {
                challenge_title: Some(candidate.challenge.spec.title.clone()),
                minutes: Some((left + 59) / 60),
                starts_at: Some(reminder.session_start.to_string()),
                date: Some(reminder.date.to_string()),
                ..Default::default()
            };
            let key = format!("reminder:{}:{}", candidate.challenge.id, reminder.date);
            let created = notifier
                .notify_with(
                    candidate.user_id,
                    Kind::SessionReminder,
                    Some(candidate.challenge.id),
                    &details,
                    Some(key),
                    &settings,
                    Some(reminder.session_start),
                )
                .await?;
            if created.is_some() {
                metrics::counter!("ssgwan_reminders_sent_total").increment(1);
                sent += 1;
            }
        }
        if !full {
            return Ok(sent);
        }
    }
}

/// A handle on the reminder job: a pass every `interval`, and one at once on
/// [`ReminderJob::run_now`] (tests move the clock, then call it).
#[derive(Clone)]
pub struct ReminderJob {
    requests: mpsc::Sender<oneshot::Sender<usize>>,
}

impl ReminderJob {
    pub fn start(
        background: &Background,
        store: Arc<dyn NotificationStore>,
        notifier: Notifier,
        clock: Arc<dyn Clock>,
        interval: Duration,
    ) -> ReminderJob {
        let (requests, mut asked) = mpsc::channel::<oneshot::Sender<usize>>(16);
        let stop = background.stopping();
        background.spawn("reminders", async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let reply = tokio::select! {
                    biased;
                    () = stop.cancelled() => break,
                    _ = ticker.tick() => None,
                    Some(reply) = asked.recv() => Some(reply),
                };
                let sent = match send_due(&*store, &notifier, &*clock).await {
                    Ok(sent) => sent,
                    Err(err) => {
                        tracing::error!(error = %err, "sending session reminders failed");
                        0
                    }
                };
                if let Some(reply) = reply {
                    let _ = reply.send(sent);
                }
            }
        });
        ReminderJob { requests }
    }

    /// Runs one pass now and returns how many reminders it sent; 0 when the job has stopped.
    pub async fn run_now(&self) -> usize {
        let (reply, sent) = oneshot::channel();
        if self.requests.send(reply).await.is_err() {
            return 0;
        }
        sent.await.unwrap_or(0)
    }
}
