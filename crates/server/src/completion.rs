//! Settling challenges when they end: each active participant becomes COMPLETED or FAILED by
//! their achieved sessions against the success rate. Runs at start (catching up on whatever
//! ended while the server was down) and then periodically. Idempotent, and safe with several
//! nodes: a participant is settled by a conditional update, so only one run emits their event.

use std::{sync::Arc, time::Duration};

use jiff::SignedDuration;
use ssgwan_domain::{
    Clock,
    attendance::{Completion, ParticipantSchedule, completion},
};
use ssgwan_store::{
    AttendanceStore, ChallengeStore, ParticipantStatus, ParticipationStore, StoreResult,
};
use tokio::sync::broadcast;

use crate::{
    events::DomainEvent,
    tasks::{Background, PeriodicJob},
};

/// How long after a challenge's end before settling it, so the last on-camera seconds of its
/// final session have been written.
pub const GRACE: SignedDuration = SignedDuration::from_secs(15);

/// What settling reads and writes: the challenge, its places and their attendance.
pub trait SettlementStore: ChallengeStore + ParticipationStore + AttendanceStore {}

impl<S: ChallengeStore + ParticipationStore + AttendanceStore + ?Sized> SettlementStore for S {}

/// Settles every challenge that has ended (and waited out the grace period). Returns how many
/// challenges were settled.
pub async fn settle_ended(
    store: &(impl SettlementStore + ?Sized),
    clock: &dyn Clock,
    events: &broadcast::Sender<DomainEvent>,
) -> StoreResult<usize> {
    let now = clock.now();
    let cutoff = now.checked_sub(GRACE).unwrap_or(now);
    let mut settled = 0;
    loop {
        let ids = store.unfinalized_ended(cutoff, 50).await?;
        if ids.is_empty() {
            return Ok(settled);
        }
        for id in ids {
            settle(store, id, clock, events).await?;
            settled += 1;
        }
    }
}

async fn settle(
    store: &(impl SettlementStore + ?Sized),
    challenge_id: i64,
    clock: &dyn Clock,
    events: &broadcast::Sender<DomainEvent>,
) -> StoreResult<()> {
    let now = clock.now();
    let Some(challenge) = store.challenge(challenge_id, None).await? else {
        return Ok(());
    };
    for participant in store.participants(challenge_id).await? {
        if participant.status != ParticipantStatus::Active {
            continue;
        }
        let scheduled = ParticipantSchedule::new(&challenge.spec.schedule, participant.joined_at)
            .total_sessions();
        let outcome = completion(
            participant.achieved_sessions,
            scheduled,
            challenge.spec.success_rate,
        );
        let status = match outcome {
            Completion::Completed => ParticipantStatus::Completed,
            Completion::Failed => ParticipantStatus::Failed,
        };
        if store
            .finalize_participant(challenge_id, participant.user.id, status, now)
            .await?
        {
            metrics::counter!("ssgwan_participants_settled_total", "status" => status.as_str())
                .increment(1);
            let _ = events.send(DomainEvent::ChallengeSettled {
                challenge_id,
                user_id: participant.user.id,
                completed: outcome == Completion::Completed,
                at: now,
            });
        }
    }
    store.mark_finalized(challenge_id, now).await?;
    tracing::info!(challenge_id, "challenge settled");
    Ok(())
}

/// The completion job: it settles ended challenges every `interval`, and at once when asked
/// through [`PeriodicJob::run_now`] (which returns how many challenges the pass settled).
pub type CompletionJob = PeriodicJob<usize>;

/// Starts the completion job on `background`; it stops when the server does.
pub fn start_job<S: SettlementStore + ?Sized + 'static>(
    background: &Background,
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<DomainEvent>,
    interval: Duration,
) -> CompletionJob {
    PeriodicJob::start(background, "completion", interval, false, move || {
        let (store, clock, events) = (store.clone(), clock.clone(), events.clone());
        async move {
            settle_ended(&*store, &*clock, &events)
                .await
                .unwrap_or_else(|err| {
                    tracing::error!(error = %err, "settling ended challenges failed");
                    0
                })
        }
    })
}
