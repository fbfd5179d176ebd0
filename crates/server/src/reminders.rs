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

use crate::{
    notifications::Notifier,
    tasks::{Background, PeriodicJob},
};

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

/// The reminder job: a pass every `interval`, and one at once on [`PeriodicJob::run_now`]
/// (which returns how many reminders the pass sent).
pub type ReminderJob = PeriodicJob<usize>;

/// Starts the reminder job on `background`; it stops when the server does.
pub fn start_job(
    background: &Background,
    store: Arc<dyn NotificationStore>,
    notifier: Notifier,
    clock: Arc<dyn Clock>,
    interval: Duration,
) -> ReminderJob {
    PeriodicJob::start(background, "reminders", interval, false, move || {
        let (store, notifier, clock) = (store.clone(), notifier.clone(), clock.clone());
        async move {
            send_due(&*store, &notifier, &*clock)
                .await
                .unwrap_or_else(|err| {
                    tracing::error!(error = %err, "sending session reminders failed");
                    0
                })
        }
    })
}
