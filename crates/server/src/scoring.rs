//! Scoring, the service behind the real-time ranking: scores go into the database's ledger
//! (idempotently) and onto the boards at once, and a connected user whose rank changes hears of it.
//!
//! Scores come from domain events (achieved sessions, completed challenges). The ledger is the
//! source of truth: at start, and whenever this consumer fell behind the event stream, the
//! ledger is reconciled with the achievements and completions it records, and the boards are
//! rebuilt from it, so nothing is lost even if an event is.

use std::{collections::HashMap, sync::Arc, sync::Mutex, time::Duration, time::Instant};

use bytes::Bytes;
use jiff::{Timestamp, civil::Date};
use ssgwan_domain::stats::{Period, Standing};
use ssgwan_realtime::{Ranked, RankingBoards};
use ssgwan_store::{ScoreKind, ScoreStore, StoreResult, UserStore, UserSummary};
use tokio::sync::broadcast;

use crate::{
    calendar::Calendar, delivery::UserSockets, events::DomainEvent, tasks::Background,
    wire::ServerFrame,
};

mod activity;
pub use activity::Activity;

/// How long a cached nickname and picture may be shown after a change on another node.
const PROFILE_TTL: Duration = Duration::from_secs(10);

pub struct Scoring {
    boards: Arc<dyn RankingBoards>,
    /// The score ledger the boards are built from and kept beside.
    scores: Arc<dyn ScoreStore>,
    /// Where the profiles shown with positions come from.
    users: Arc<dyn UserStore>,
    calendar: Calendar,
    /// Which challenges earn points.
    award: ssgwan_domain::award::AwardRules,
    profiles: Mutex<HashMap<i64, (UserSummary, Instant)>>,
    /// Bumped by every change a board or profile makes, to invalidate `rendered`.
    version: std::sync::atomic::AtomicU64,
    /// Rendered top pages per (period, limit, detailed), with the version and day they were
    /// made for.
    rendered: Mutex<HashMap<(Period, usize, bool), Rendered>>,
    /// Serialized `me` entries per (user, period, detailed), under the same version and day.
    rendered_me: Mutex<HashMap<(i64, Period, bool), RenderedMe>>,
    /// Levels and sparklines per user (see [`Scoring::activity`]).
    activity: activity::ActivityCache,
}

type Rendered = (u64, Date, Arc<TopPage>);
type RenderedMe = (u64, Date, Bytes);

/// Most `me` entries kept; beyond that the cache starts over.
const RENDERED_ME_MAX: usize = 100_000;

/// A top page rendered once per board change and shared by every read until the next one, as
/// the bytes that go on the wire: the page up to the caller's own entry, and the whole page of
/// an anonymous reader. A signed-in read sends `before_me` and then its own entry with the
/// closing `}` ([`Scoring::me_tail`]), so no read copies or re-serializes the entries.
#[derive(Debug)]
pub struct TopPage {
    pub before_me: Bytes,
    pub anonymous: Bytes,
}

/// A position with the user's public profile.
#[derive(Debug, Clone)]
pub struct Entry {
    pub ranked: Ranked,
    pub profile: UserSummary,
}

impl Scoring {
    pub fn new(
        boards: Arc<dyn RankingBoards>,
        scores: Arc<dyn ScoreStore>,
        users: Arc<dyn UserStore>,
        calendar: Calendar,
        award: ssgwan_domain::award::AwardRules,
    ) -> Self {
        Self {
            boards,
            scores,
            users,
            calendar,
            award,
            profiles: Mutex::new(HashMap::new()),
            version: Default::default(),
            rendered: Mutex::new(HashMap::new()),
            rendered_me: Mutex::new(HashMap::new()),
            activity: Default::default(),
        }
    }

    fn today(&self) -> Date {
        self.calendar.today()
    }

    /// Reconciles the ledger and rebuilds every board from it.
    pub async fn rebuild(&self) -> StoreResult<()> {
        let added = self.scores.reconcile_scores(&self.award).await?;
        if added > 0 {
            tracing::warn!(added, "score ledger was missing entries; reconciled");
        }
        let today = self.today();
        for period in Period::ALL {
            let start = period.start(today);
            let since = start.and_then(|d| self.calendar.start_of(d));
            let totals = self.scores.score_totals(since).await?;
            let standings = totals
                .into_iter()
                .map(|t| Standing {
                    user_id: t.user_id,
                    score: t.score,
                    completed: t.completed,
                    reached_at: t.reached_at,
                })
                .collect();
            self.boards
                .replace(period, start, standings)
                .await
                .map_err(realtime_error)?;
        }
        self.changed();
        Ok(())
    }

    /// Records a score once and moves the boards; returns the all-time position before and after
    /// (`None` when the score had already been recorded, or the challenge awards no points).
    pub async fn score(
        &self,
        user: i64,
        challenge: i64,
        kind: ScoreKind,
        session_date: Option<Date>,
        at: Timestamp,
    ) -> StoreResult<Option<(Option<Ranked>, Option<Ranked>)>> {
        let points = kind.points();
        // Challenges made to be won earn nothing (see ssgwan_domain::award).
        let refusal = match self.scores.award_facts(challenge).await? {
            Some(facts) => ssgwan_domain::award::no_points(&self.award, &facts),
            None => Some(ssgwan_domain::award::NoPoints::TooFewParticipants),
        };
        if let Some(reason) = refusal {
            metrics::counter!("ssgwan_scores_withheld_total", "reason" => reason.as_str())
                .increment(1);
            tracing::info!(
                user,
                challenge,
                reason = reason.as_str(),
                "no points: the challenge does not award them"
            );
            return Ok(None);
        }
        if !self
            .scores
            .record_score(user, challenge, kind, session_date, points, at)
            .await?
        {
            return Ok(None);
        }
        metrics::counter!("ssgwan_score_entries_total", "kind" => kind.as_str()).increment(1);
        let moved = self
            .boards
            .add(
                user,
                points,
                kind == ScoreKind::Completion,
                at.as_millisecond(),
                self.calendar.day_of(at),
            )
            .await
            .map_err(realtime_error)?;
        self.changed();
        Ok(Some(moved))
    }

    pub async fn top(&self, period: Period, limit: usize) -> StoreResult<Vec<Entry>> {
        let ranked = self
            .boards
            .top(period, limit, self.today())
            .await
            .map_err(realtime_error)?;
        self.with_profiles(ranked).await
    }

    pub async fn position(&self, period: Period, user: i64) -> StoreResult<Option<Entry>> {
        let Some(ranked) = self
            .boards
            .position(period, user, self.today())
            .await
            .map_err(realtime_error)?
        else {
            return Ok(None);
        };
        Ok(self.with_profiles(vec![ranked]).await?.pop())
    }

    /// Drops a cached profile (the user edited it).
    pub fn forget_profile(&self, user: i64) {
        self.profiles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&user);
        self.changed();
    }

    /// Drops every cached render. With boards shared by several nodes, other nodes' scores do
    /// not pass through here, so the server calls this every second instead.
    pub fn invalidate(&self) {
        self.changed();
    }

    /// Whether the all-time board exists in the board store (a restarted, empty Redis has none:
    /// then it is rebuilt from the ledger).
    pub async fn boards_built(&self) -> Result<bool, ssgwan_realtime::RealtimeError> {
        self.boards.is_built(Period::All).await
    }

    fn changed(&self) {
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// The top page, rendered once per board change and reused by every read until the next
    /// one. `render` turns the entries into DTOs (it may read more for the whole page, e.g.
    /// levels and sparklines when `detailed`, each variant cached apart); `frame` wraps their
    /// JSON array into the page's bytes.
    pub async fn top_page<T, Fut>(
        &self,
        period: Period,
        limit: usize,
        detailed: bool,
        render: impl FnOnce(Vec<Entry>) -> Fut,
        frame: impl FnOnce(&str) -> TopPage,
    ) -> StoreResult<Arc<TopPage>>
    where
        T: serde::Serialize,
        Fut: Future<Output = StoreResult<Vec<T>>>,
    {
        let today = self.today();
        let version = self.version.load(std::sync::atomic::Ordering::Acquire);
        if let Some((v, day, page)) = self
            .rendered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(period, limit, detailed))
            && *v == version
            && *day == today
        {
            return Ok(page.clone());
        }
        let entries: Vec<T> = render(self.top(period, limit).await?).await?;
        let json = serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into());
        let page = Arc::new(frame(&json));
        self.rendered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((period, limit, detailed), (version, today, page.clone()));
        Ok(page)
    }

    /// The end of `user`'s signed-in page after [`TopPage::before_me`]: their own entry as
    /// JSON (`null` when unranked) and the page's closing `}`, rendered by `render` once per
    /// board change (the version every score and profile change bumps) and day, like the top
    /// page.
    pub async fn me_tail<T, Fut>(
        &self,
        period: Period,
        user: i64,
        detailed: bool,
        render: impl FnOnce(Entry) -> Fut,
    ) -> StoreResult<Bytes>
    where
        T: serde::Serialize,
        Fut: Future<Output = StoreResult<T>>,
    {
        let today = self.today();
        let version = self.version.load(std::sync::atomic::Ordering::Acquire);
        let key = (user, period, detailed);
        if let Some((v, day, json)) = self
            .rendered_me
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            && *v == version
            && *day == today
        {
            return Ok(json.clone());
        }
        let mut json = match self.position(period, user).await? {
            Some(entry) => serde_json::to_vec(&render(entry).await?)
                .map_err(|e| ssgwan_store::StoreError::Corrupt(e.to_string()))?,
            None => b"null".to_vec(),
        };
        json.push(b'}');
        let json = Bytes::from(json);
        // Stored under the version read before the reads: a change landing meanwhile bumps the
        // version, so this entry is rendered again next time rather than trusted.
        let mut cache = self.rendered_me.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= RENDERED_ME_MAX {
            cache.clear();
        }
        cache.insert(key, (version, today, json.clone()));
        Ok(json)
    }

    async fn with_profiles(&self, ranked: Vec<Ranked>) -> StoreResult<Vec<Entry>> {
        let missing: Vec<i64> = {
            let cache = self.profiles.lock().unwrap_or_else(|e| e.into_inner());
            ranked
                .iter()
                .map(|r| r.standing.user_id)
                .filter(|id| {
                    cache
                        .get(id)
                        .is_none_or(|(_, at)| at.elapsed() > PROFILE_TTL)
                })
                .collect()
        };
        if !missing.is_empty() {
            let fetched = self.users.users(&missing).await?;
            let mut cache = self.profiles.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() > 100_000 {
                cache.clear();
            }
            for profile in fetched {
                cache.insert(profile.id, (profile, Instant::now()));
            }
        }
        let cache = self.profiles.lock().unwrap_or_else(|e| e.into_inner());
        Ok(ranked
            .into_iter()
            .filter_map(|r| {
                cache.get(&r.standing.user_id).map(|(p, _)| Entry {
                    ranked: r,
                    profile: p.clone(),
                })
            })
            .collect())
    }
}

/// A ranking board failure as a store error: `Unavailable` while Redis is down (the API answers
/// 503 `SERVICE_UNAVAILABLE`), corrupt data otherwise.
fn realtime_error(err: ssgwan_realtime::RealtimeError) -> ssgwan_store::StoreError {
    match err {
        ssgwan_realtime::RealtimeError::Unavailable(what) => {
            ssgwan_store::StoreError::Unavailable(format!("ranking boards: {what}"))
        }
        other => ssgwan_store::StoreError::Corrupt(format!("ranking boards: {other}")),
    }
}

/// Most users told they were overtaken by one score.
const OVERTAKEN_NOTICES: u64 = 100;

impl Scoring {
    /// Sends each connected user at ranks `from..from + count` their new all-time position.
    async fn notify_overtaken(&self, from: u64, count: usize, sockets: &UserSockets) {
        // While the shared boards are down there is nobody to tell (the scores are in the
        // ledger, and the boards are rebuilt from it).
        for ranked in self
            .boards
            .range(Period::All, from, count, self.today())
            .await
            .unwrap_or_default()
        {
            let frame = ServerFrame::Ranking {
                period: "all",
                rank: ranked.rank,
                previous_rank: Some(ranked.rank - 1),
                total_score: ranked.standing.score,
                completed_count: ranked.standing.completed,
            };
            sockets.send(ranked.standing.user_id, frame.encode());
        }
    }
}

/// Consumes domain events on `background` until the server stops.
pub fn start_consumer(
    background: &Background,
    scoring: Arc<Scoring>,
    mut events: broadcast::Receiver<DomainEvent>,
    sockets: Arc<UserSockets>,
    rank_ups: broadcast::Sender<DomainEvent>,
) {
    let stop = background.stopping();
    background.spawn("scoring", async move {
        loop {
            let Some(next) = stop.run_until_cancelled(events.recv()).await else {
                break;
            };
            let event = match next {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "ranking fell behind the events; rebuilding from the ledger"
                    );
                    if let Err(err) = scoring.rebuild().await {
                        tracing::error!(error = %err, "rebuilding the ranking failed");
                    }
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let (user, outcome) = match event {
                DomainEvent::SessionAchieved {
                    challenge_id,
                    user_id,
                    date,
                    at,
                } => (
                    user_id,
                    scoring
                        .score(user_id, challenge_id, ScoreKind::Session, Some(date), at)
                        .await,
                ),
                DomainEvent::ChallengeSettled {
                    challenge_id,
                    user_id,
                    completed: true,
                    at,
                } => (
                    user_id,
                    scoring
                        .score(user_id, challenge_id, ScoreKind::Completion, None, at)
                        .await,
                ),
                DomainEvent::ChallengeSettled {
                    completed: false, ..
                }
                | DomainEvent::NoticeChanged { .. }
                | DomainEvent::MemberJoined { .. }
                | DomainEvent::RankUp { .. } => continue,
            };
            match outcome {
                Ok(Some((before, Some(after))))
                    if before.map(|b| b.rank) != Some(after.rank)
                        || before.map(|b| b.standing.score) != Some(after.standing.score) =>
                {
                    let frame = ServerFrame::Ranking {
                        period: "all",
                        rank: after.rank,
                        previous_rank: before.map(|b| b.rank),
                        total_score: after.standing.score,
                        completed_count: after.standing.completed,
                    };
                    sockets.send(user, frame.encode());
                    if let Some(before) = before
                        && before.rank > after.rank
                    {
                        let _ = rank_ups.send(DomainEvent::RankUp {
                            user_id: user,
                            rank: after.rank,
                            previous_rank: before.rank,
                            at: jiff::Timestamp::from_millisecond(after.standing.reached_at)
                                .unwrap_or_default(),
                        });
                    }
                    // Those the user overtook moved down one place: tell the connected ones
                    // (bounded, so a jump across the whole board costs nothing extra).
                    if let Some(before) = before
                        && before.rank > after.rank
                        && before.rank - after.rank <= OVERTAKEN_NOTICES
                    {
                        scoring
                            .notify_overtaken(
                                after.rank + 1,
                                (before.rank - after.rank) as usize,
                                &sockets,
                            )
                            .await;
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::error!(error = %err, user, "recording a score failed; the next rebuild reconciles it")
                }
            }
        }
    });
}
