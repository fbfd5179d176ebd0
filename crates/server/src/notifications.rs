//! Notifications: stored for the bell and its list, sent live as a `notification` frame to the
//! user's open tabs on every node, and (unless paused) pushed to their browsers.
//!
//! They come from domain events (achieved sessions, settled participants, notice changes, new
//! members, rank ups), consumed here, and from the reminder job (`reminders`). Each is created
//! once: events happen on one node, and a notification with a dedupe key (reminders, one per
//! session) is created by whichever node inserts the key first; only that node delivers it.

use std::sync::Arc;

use jiff::{Timestamp, tz::TimeZone};
use ssgwan_domain::{
    Clock,
    notification::{Details, Kind, KindSet, Settings},
};
use ssgwan_store::{
    NewNotification, NotificationRecord, NotificationSettingsRecord, Store, StoreResult,
};
use tokio::sync::broadcast;

use crate::{
    delivery::UserSockets,
    events::DomainEvent,
    tasks::Background,
    wire::{NotificationDto, ServerFrame},
};

/// Where notifications go once stored, besides the sockets (Web Push, see `push`).
#[async_trait::async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Sends `notification` to the user's browsers; `session_start` for reminders (quiet hours
    /// let those through when the session itself is in them).
    async fn push(
        &self,
        notification: &NotificationRecord,
        settings: &Settings,
        session_start: Option<Timestamp>,
    );
}

#[derive(Clone)]
pub struct Notifier {
    store: Arc<dyn Store>,
    sockets: Arc<UserSockets>,
    clock: Arc<dyn Clock>,
    /// Quiet hours without a timezone of their own are in this one (the server's).
    timezone: TimeZone,
    outbox: Option<Arc<dyn Outbox>>,
    /// The kill switch: no pushes (and no reminders, see `reminders`).
    paused: bool,
}

impl Notifier {
    pub fn new(
        store: Arc<dyn Store>,
        sockets: Arc<UserSockets>,
        clock: Arc<dyn Clock>,
        timezone: TimeZone,
        outbox: Option<Arc<dyn Outbox>>,
        paused: bool,
    ) -> Self {
        Self {
            store,
            sockets,
            clock,
            timezone,
            outbox,
            paused,
        }
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn timezone(&self) -> &TimeZone {
        &self.timezone
    }

    /// The user's settings, the defaults when they saved none (or saved ones no longer valid).
    pub async fn settings(&self, user: i64) -> StoreResult<Settings> {
        Ok(self
            .store
            .notification_settings(user)
            .await?
            .map_or_else(Settings::defaults, |r| self.settings_from(&r)))
    }

    /// Stored settings as the domain reads them.
    pub fn settings_from(&self, r: &NotificationSettingsRecord) -> Settings {
        Settings::parse(
            KindSet::from_bits(r.kinds),
            r.minutes_before,
            r.quiet_start.as_deref(),
            r.quiet_end.as_deref(),
            r.timezone.as_deref(),
            &self.timezone,
        )
        .unwrap_or_else(|_| Settings::defaults())
    }

    /// Creates the notification unless the user turned its kind off (or `dedupe_key` was used
    /// already), then delivers it: a frame to their sockets, a push to their browsers.
    pub async fn notify(
        &self,
        user: i64,
        kind: Kind,
        challenge: Option<i64>,
        details: &Details,
        dedupe_key: Option<String>,
    ) -> StoreResult<Option<NotificationRecord>> {
        let settings = self.settings(user).await?;
        self.notify_with(user, kind, challenge, details, dedupe_key, &settings, None)
            .await
    }

    /// [`Self::notify`] with the user's settings already read (the reminder job reads them
    /// with the candidates).
    #[allow(clippy::too_many_arguments)]
    pub async fn notify_with(
        &self,
        user: i64,
        kind: Kind,
        challenge: Option<i64>,
        details: &Details,
        dedupe_key: Option<String>,
        settings: &Settings,
        session_start: Option<Timestamp>,
    ) -> StoreResult<Option<NotificationRecord>> {
        if !settings.kinds.contains(kind) {
            return Ok(None);
        }
        let new = NewNotification {
            user_id: user,
            kind: kind.as_str().to_owned(),
            challenge_id: challenge,
            data: serde_json::to_string(details).unwrap_or_else(|_| "{}".into()),
            dedupe_key,
        };
        let Some(record) = self
            .store
            .create_notification(&new, self.clock.now())
            .await?
        else {
            return Ok(None);
        };
        metrics::counter!("ssgwan_notifications_total", "kind" => kind.as_str()).increment(1);
        let unread_count = self.store.unread_notifications(user).await?;
        let frame = ServerFrame::Notification {
            notification: NotificationDto::from(record.clone()),
            unread_count,
        };
        self.sockets.send(user, frame.encode());
        if !self.paused
            && let Some(outbox) = &self.outbox
        {
            outbox.push(&record, settings, session_start).await;
        }
        Ok(Some(record))
    }

    async fn challenge_title(&self, id: i64) -> StoreResult<Option<(String, i64)>> {
        Ok(self
            .store
            .challenge(id, None)
            .await?
            .map(|c| (c.spec.title, c.creator.id)))
    }

    /// Turns one domain event into its notifications.
    async fn on_event(&self, event: DomainEvent) -> StoreResult<()> {
        match event {
            DomainEvent::SessionAchieved {
                challenge_id,
                user_id,
                date,
                ..
            } => {
                let title = self.challenge_title(challenge_id).await?.map(|t| t.0);
                let details = Details {
                    challenge_title: title,
                    date: Some(date.to_string()),
                    ..Default::default()
                };
                let key = format!("achieved:{challenge_id}:{date}");
                self.notify(
                    user_id,
                    Kind::SessionAchieved,
                    Some(challenge_id),
                    &details,
                    Some(key),
                )
                .await?;
            }
            DomainEvent::ChallengeSettled {
                challenge_id,
                user_id,
                completed,
                ..
            } => {
                let title = self.challenge_title(challenge_id).await?.map(|t| t.0);
                let kind = if completed {
                    Kind::ChallengeCompleted
                } else {
                    Kind::ChallengeFailed
                };
                let details = Details {
                    challenge_title: title,
                    ..Default::default()
                };
                let key = format!("settled:{challenge_id}");
                self.notify(user_id, kind, Some(challenge_id), &details, Some(key))
                    .await?;
            }
            DomainEvent::NoticeChanged { challenge_id, at } => {
                let Some((title, creator)) = self.challenge_title(challenge_id).await? else {
                    return Ok(());
                };
                let details = Details {
                    challenge_title: Some(title),
                    ..Default::default()
                };
                for participant in self.store.participants(challenge_id).await? {
                    let user = participant.user.id;
                    if user == creator
                        || participant.status != ssgwan_store::ParticipantStatus::Active
                    {
                        continue;
                    }
                    let key = format!("notice:{challenge_id}:{}", at.as_millisecond());
                    self.notify(
                        user,
                        Kind::NoticeChanged,
                        Some(challenge_id),
                        &details,
                        Some(key),
                    )
                    .await?;
                }
            }
            DomainEvent::MemberJoined {
                challenge_id,
                challenge_title,
                creator_id,
                user_id,
                nickname,
                at,
            } => {
                if creator_id == user_id {
                    return Ok(());
                }
                let details = Details {
                    challenge_title: Some(challenge_title),
                    nickname: Some(nickname),
                    ..Default::default()
                };
                let key = format!("member:{challenge_id}:{user_id}:{}", at.as_millisecond());
                self.notify(
                    creator_id,
                    Kind::NewMember,
                    Some(challenge_id),
                    &details,
                    Some(key),
                )
                .await?;
            }
            DomainEvent::RankUp {
                user_id,
                rank,
                previous_rank,
                ..
            } => {
                let details = Details {
                    rank: Some(rank),
                    previous_rank: Some(previous_rank),
                    ..Default::default()
                };
                self.notify(user_id, Kind::RankUp, None, &details, None)
                    .await?;
            }
        }
        Ok(())
    }
}

/// Consumes domain events on `background` until the server stops. Events lost to a lagging
/// consumer lose their notifications (logged); what they stand for stays in the database.
pub fn start_consumer(
    background: &Background,
    notifier: Notifier,
    mut events: broadcast::Receiver<DomainEvent>,
) {
    let stop = background.stopping();
    background.spawn("notifications", async move {
        loop {
            let Some(next) = stop.run_until_cancelled(events.recv()).await else {
                break;
            };
            match next {
                Ok(event) => {
                    if let Err(err) = notifier.on_event(event).await {
                        tracing::warn!(error = %err, "a notification was not created");
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "notifications fell behind the events; some were skipped"
                    );
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
