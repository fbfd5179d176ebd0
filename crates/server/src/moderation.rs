//! Keeping rooms safe (issue 18): host controls, reports, blocks and operators, between the
//! edge (`http::moderation`, `http::admin`, `ws::moderation`) and the store. The rules are in
//! `ssgwan_domain::moderation`; every change is decided by the database (see
//! `ssgwan_store::ModerationStore`), and every host and operator action is idempotent.

use jiff::Timestamp;
use ssgwan_domain::{
    Invalid, Reason,
    moderation::{
        HostAction, HostRefusal, OperatorAction, Role, TargetType, host_refusal, report_input,
    },
    notification::{Details, Kind},
};
use ssgwan_realtime::Revocation;
use ssgwan_store::{
    AuditEntry, ChallengeRecord, MediaKind, NewReport, ParticipantStatus, Removal, ReportRecord,
    Store, StoreResult,
};

pub use crate::safety::SafetyError;
use crate::{
    delivery,
    error::AppResult,
    media_policy,
    state::AppState,
    wire::{MessageDto, ServerFrame},
};

/// `user`'s part in the challenge now.
pub async fn role(store: &dyn Store, challenge: &ChallengeRecord, user: i64) -> StoreResult<Role> {
    if challenge.creator.id == user {
        return Ok(Role::Creator);
    }
    if store.cohosts(challenge.id).await?.contains(&user) {
        return Ok(Role::Cohost);
    }
    let active = store
        .membership(challenge.id, user)
        .await?
        .is_some_and(|m| m.status == ParticipantStatus::Active);
    Ok(if active { Role::Member } else { Role::Outsider })
}

/// Refuses `action` by `actor` on `target` (when there is one) unless the rules allow it.
pub async fn check_host(
    state: &AppState,
    challenge: &ChallengeRecord,
    action: HostAction,
    actor: i64,
    target: Option<(i64, bool)>,
) -> AppResult<()> {
    let store = &*state.store;
    let actor_role = role(store, challenge, actor).await?;
    let target = match target {
        Some((user, done)) => Some((user, role(store, challenge, user).await?, done)),
        None => None,
    };
    let refusal = host_refusal(
        action,
        actor,
        actor_role,
        target.map(|(user, role, _)| (user, role)),
        target.is_some_and(|(_, _, done)| done),
    );
    match refusal {
        Some(refusal) => Err(SafetyError::Host(refusal).into()),
        None => Ok(()),
    }
}

/// Removes `target` from the challenge (host `actor`): their place is freed, their sockets
/// leave the room on every node (`left {reason: "removed"}`) and they are told in words.
/// A repeat changes nothing and tells nobody again.
pub async fn remove_member(
    state: &AppState,
    challenge: &ChallengeRecord,
    actor: i64,
    target: i64,
) -> AppResult<()> {
    let already = state
        .store
        .removed_at(challenge.id, target)
        .await?
        .is_some();
    check_host(
        state,
        challenge,
        HostAction::Remove,
        actor,
        Some((target, already)),
    )
    .await?;
    let now = state.now();
    let removal = state
        .store
        .remove_participant(challenge.id, target, actor, now)
        .await?;
    // Evicted either way: a repeat after a lost eviction (Redis down) takes them out now.
    delivery::revoke_room(
        &*state.rooms,
        &state.media,
        challenge.id,
        Some(target),
        Revocation::Removed,
    )
    .await;
    if removal == Removal::Removed {
        metrics::counter!("ssgwan_moderation_total", "action" => "remove").increment(1);
        tracing::info!(challenge_id = challenge.id, actor, target, "member removed");
        let details = Details {
            challenge_title: Some(challenge.spec.title.clone()),
            ..Default::default()
        };
        let key = format!("removed:{}", challenge.id);
        if let Err(err) = state
            .notifier
            .notify(
                target,
                Kind::RemovedFromChallenge,
                Some(challenge.id),
                &details,
                Some(key),
            )
            .await
        {
            tracing::warn!(error = %err, target, "removal notice not stored");
        }
    }
    Ok(())
}

/// Stops or allows again `target`'s video and/or audio in the room (host `actor`; `None`
/// leaves that kind as it is). The media server holding the room stops forwarding it at once
/// (wherever the room lives), and everyone in the room gets the new `mediaStops` (the member
/// sees why their tile is dark to the others). Returns the member's stops now; a repeat changes
/// nothing and tells nobody again.
pub async fn set_member_media(
    state: &AppState,
    challenge: &ChallengeRecord,
    actor: i64,
    target: i64,
    video: Option<bool>,
    audio: Option<bool>,
) -> AppResult<(bool, bool)> {
    let current = state.store.media_stops(challenge.id).await?;
    let stopped = |kind| current.contains(&(target, kind));
    let wanted = [
        (MediaKind::Video, video.unwrap_or(stopped(MediaKind::Video))),
        (MediaKind::Audio, audio.unwrap_or(stopped(MediaKind::Audio))),
    ];
    // A repeat is done already, and allowing again is allowed whatever the target's role is
    // now (they may have become a co-host, or left, since they were stopped).
    let done = wanted.iter().all(|&(kind, want)| stopped(kind) == want)
        || !wanted.iter().any(|&(_, want)| want);
    check_host(
        state,
        challenge,
        HostAction::StopMedia,
        actor,
        Some((target, done)),
    )
    .await?;
    let now = state.now();
    let mut changed = false;
    for (kind, want) in wanted {
        changed |= state
            .store
            .set_media_stop(challenge.id, target, kind, want, actor, now)
            .await?;
    }
    if changed {
        metrics::counter!("ssgwan_moderation_total", "action" => "media").increment(1);
        tracing::info!(
            challenge_id = challenge.id,
            actor,
            target,
            video = wanted[0].1,
            audio = wanted[1].1,
            "member media set"
        );
        if let Some(policy) = media_policy::push(state, challenge.id).await {
            let frame = ServerFrame::MediaStops {
                room: challenge.id,
                stops: media_policy::stop_list(&policy),
            };
            if let Err(err) = state
                .rooms
                .broadcast(challenge.id, frame.encode(), None)
                .await
            {
                tracing::warn!(error = %err, challenge_id = challenge.id, "media stops not delivered to every node");
            }
        }
    }
    Ok((wanted[0].1, wanted[1].1))
}

/// Deletes message `seq` of the room (host `actor`): its body is blanked in the history and a
/// `chatDeleted` tombstone goes to everyone in the room. A repeat sends the tombstone again.
pub async fn delete_message(
    state: &AppState,
    challenge: &ChallengeRecord,
    actor: i64,
    seq: i64,
) -> AppResult<()> {
    check_host(state, challenge, HostAction::Room, actor, None).await?;
    let deleted = state
        .store
        .delete_message(challenge.id, seq, actor, state.now())
        .await?
        .ok_or(SafetyError::MessageNotFound)?;
    if deleted {
        metrics::counter!("ssgwan_moderation_total", "action" => "delete_message").increment(1);
        tracing::info!(
            challenge_id = challenge.id,
            actor,
            seq,
            "chat message deleted"
        );
    }
    let frame = ServerFrame::ChatDeleted {
        room: challenge.id,
        message_id: seq,
    };
    if let Err(err) = state
        .rooms
        .broadcast(challenge.id, frame.encode(), None)
        .await
    {
        tracing::warn!(error = %err, challenge_id = challenge.id, "tombstone not delivered to every node");
    }
    Ok(())
}

/// Locks the room for today's session (host `actor`): whether it was locked now.
pub async fn lock_room(
    state: &AppState,
    challenge: &ChallengeRecord,
    actor: i64,
) -> AppResult<bool> {
    check_host(state, challenge, HostAction::Room, actor, None).await?;
    let now = state.now();
    let date = challenge.spec.schedule.local_date(now);
    let locked = state
        .store
        .lock_room(challenge.id, date, actor, now)
        .await?;
    if locked {
        metrics::counter!("ssgwan_moderation_total", "action" => "lock").increment(1);
        tracing::info!(challenge_id = challenge.id, actor, %date, "room locked");
        let frame = ServerFrame::RoomLocked {
            room: challenge.id,
            date: date.to_string(),
        };
        if let Err(err) = state
            .rooms
            .broadcast(challenge.id, frame.encode(), None)
            .await
        {
            tracing::warn!(error = %err, challenge_id = challenge.id, "lock frame not delivered to every node");
        }
    }
    Ok(locked)
}

/// Whether the room is locked for today's session.
pub async fn room_locked(state: &AppState, challenge: &ChallengeRecord) -> StoreResult<bool> {
    let date = challenge.spec.schedule.local_date(state.now());
    state.store.room_locked(challenge.id, date).await
}

/// Appends an operator's (or the command line's, `actor: None`) action to the audit log.
pub async fn audit(
    store: &dyn Store,
    actor: Option<i64>,
    action: &str,
    target: String,
    reason: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let entry = AuditEntry {
        actor_id: actor,
        action: action.to_owned(),
        target,
        reason: reason.to_owned(),
    };
    store.audit(&entry, now).await
}

/// Whether a message is shown to a viewer who blocked (or was blocked by) `hidden`: not when
/// its author is one of them, nor while its author is suspended.
pub fn shown(message: &MessageDto, hidden: &[i64], now: Timestamp) -> bool {
    let suspended = message
        .author_suspended_until
        .is_some_and(|until| until > now.as_millisecond());
    !suspended && !hidden.contains(&message.user_id)
}

/// A report as the reporter sends it, checked at the edge for shape only.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub target_type: TargetType,
    pub target_id: i64,
    /// The message's room (messages only).
    pub challenge_id: Option<i64>,
    pub reason: String,
    pub detail: Option<String>,
}

/// Files `reporter`'s report of something they can see (`REPORT_NOT_ALLOWED` otherwise; not
/// themselves: `SELF_TARGET`) and sends a receipt: the report and whether it is new (a repeat
/// of the same target returns the first report and sends nothing).
pub async fn file_report(
    state: &AppState,
    reporter: i64,
    input: ReportInput,
) -> AppResult<(ReportRecord, bool)> {
    let (reason, detail) = report_input(&input.reason, input.detail.as_deref())?;
    let store = &*state.store;
    let id = input.target_id;
    let (key, subject, challenge_id, seq, title) = match input.target_type {
        TargetType::User => {
            store.user(id).await?.ok_or(SafetyError::ReportNotAllowed)?;
            (format!("user:{id}"), id, None, None, None)
        }
        TargetType::Challenge => {
            let challenge = store
                .challenge(id, Some(reporter))
                .await?
                .ok_or(SafetyError::ReportNotAllowed)?;
            let title = Some(challenge.spec.title.clone());
            (
                format!("challenge:{id}"),
                challenge.creator.id,
                Some(id),
                None,
                title,
            )
        }
        TargetType::Message => {
            // Only the room's members (now or before: a removed member saw it too) see its
            // messages.
            let room = input
                .challenge_id
                .ok_or(Invalid::new("challengeId", Reason::Required))?;
            let seen = store
                .membership(room, reporter)
                .await?
                .is_some_and(|m| m.status != ParticipantStatus::Cancelled)
                || store.removed_at(room, reporter).await?.is_some();
            let message = match seen {
                true => store.message(room, id).await?,
                false => None,
            };
            let message = message
                .filter(|m| !m.deleted)
                .ok_or(SafetyError::ReportNotAllowed)?;
            (
                format!("message:{room}:{id}"),
                message.user_id,
                Some(room),
                Some(id),
                None,
            )
        }
    };
    if subject == reporter {
        return Err(SafetyError::Host(HostRefusal::SelfTarget).into());
    }
    let report = NewReport {
        reporter_id: reporter,
        target_type: input.target_type.as_str(),
        target_key: key,
        subject_id: subject,
        challenge_id,
        message_seq: seq,
        reason,
        detail,
    };
    let (record, fresh) = store.create_report(&report, state.now()).await?;
    if fresh {
        metrics::counter!("ssgwan_reports_total", "target" => report.target_type).increment(1);
        tracing::info!(report_id = record.id, reporter, target = %report.target_key, "report filed");
        let details = Details {
            challenge_title: title,
            reason: Some(reason.to_owned()),
            ..Default::default()
        };
        let key = format!("report:{}", record.id);
        if let Err(err) = state
            .notifier
            .notify(reporter, Kind::ReportReceived, None, &details, Some(key))
            .await
        {
            tracing::warn!(error = %err, reporter, "report receipt not stored");
        }
    }
    Ok((record, fresh))
}

/// `ssgwan admin grant|revoke <user id>`: the operator role, given only here, and audited.
pub async fn admin_command(args: &crate::config::AdminArgs) -> anyhow::Result<()> {
    use crate::config::AdminAction;
    use ssgwan_store::ModerationStore;
    let target = args.target();
    let store = crate::open_store(&target.database).await?;
    let user_id = target.user_id;
    let (operator, action) = match args.action {
        AdminAction::Grant(_) => (true, "grantOperator"),
        AdminAction::Revoke(_) => (false, "revokeOperator"),
    };
    let now = jiff::Timestamp::now();
    let changed = store
        .set_operator(user_id, operator, now)
        .await
        .map_err(|e| anyhow::anyhow!("user {user_id}: {e}"))?;
    if changed {
        audit(
            &store,
            None,
            action,
            format!("user:{user_id}"),
            &target.reason,
            now,
        )
        .await?;
    }
    let state = match (operator, changed) {
        (true, true) => "is an operator now",
        (true, false) => "was an operator already",
        (false, true) => "is no longer an operator",
        (false, false) => "was not an operator",
    };
    eprintln!("user {user_id} {state}");
    store.close().await;
    Ok(())
}

/// Operators only (`OPERATOR_ONLY`).
pub async fn require_operator(state: &AppState, user: i64) -> AppResult<()> {
    if state.store.is_operator(user).await? {
        Ok(())
    } else {
        Err(SafetyError::OperatorOnly.into())
    }
}

/// Refuses a suspended user's login with `ACCOUNT_SUSPENDED` (and the end).
pub async fn refuse_suspended(store: &dyn Store, user: i64, now: Timestamp) -> AppResult<()> {
    let until = store.suspension(user).await?;
    if ssgwan_domain::moderation::suspended(until, now) {
        return Err(SafetyError::AccountSuspended {
            until: until.flatten(),
        }
        .into());
    }
    Ok(())
}

/// What an operator decides on a report.
#[derive(Debug, Clone)]
pub struct Decision {
    pub action: OperatorAction,
    pub reason: String,
    /// Suspensions: how many days (`None`: for good).
    pub days: Option<i64>,
}

/// Acts on an open report: dismiss it, warn its subject, suspend them (every session and
/// socket closed at once on every node), or delete its challenge; closes it and writes the
/// audit log. A closed report is left as it is (idempotent: the first decision stands).
pub async fn decide(
    state: &AppState,
    operator: i64,
    report_id: i64,
    decision: Decision,
) -> AppResult<ReportRecord> {
    let reason = ssgwan_domain::moderation::free_text("reason", &decision.reason, 1)?;
    let store = &*state.store;
    let report = store
        .report(report_id)
        .await?
        .ok_or(SafetyError::ReportNotFound)?;
    let now = state.now();
    let until = match decision.action {
        OperatorAction::Suspend => ssgwan_domain::moderation::suspension_end(now, decision.days)?,
        _ => None,
    };
    let challenge = match decision.action {
        OperatorAction::DeleteChallenge => Some(
            report
                .challenge_id
                .filter(|_| report.target_type == "challenge")
                .ok_or(Invalid::new(
                    "action",
                    Reason::Format {
                        expected: "deleteChallenge only on a challenge's report",
                    },
                ))?,
        ),
        _ => None,
    };
    let status = match decision.action {
        OperatorAction::Dismiss => "DISMISSED",
        _ => "ACTIONED",
    };
    // The conditional update decides: one decision per report, on any number of nodes.
    if !store
        .resolve_report(report_id, status, operator, now)
        .await?
    {
        return store
            .report(report_id)
            .await?
            .ok_or_else(|| SafetyError::ReportNotFound.into());
    }
    let subject = report.subject_id;
    let target = match (decision.action, subject, challenge) {
        (OperatorAction::DeleteChallenge, _, Some(id)) => format!("challenge:{id}"),
        (OperatorAction::Dismiss, _, _) => format!("report:{report_id}"),
        (_, Some(user), _) => format!("user:{user}"),
        _ => format!("report:{report_id}"),
    };
    audit(
        store,
        Some(operator),
        decision.action.as_str(),
        target,
        &reason,
        now,
    )
    .await?;
    metrics::counter!("ssgwan_moderation_total", "action" => decision.action.as_str()).increment(1);
    match (decision.action, subject) {
        (OperatorAction::Warn, Some(user)) => {
            let details = Details {
                reason: Some(reason.clone()),
                ..Default::default()
            };
            let key = format!("warning:{report_id}");
            state
                .notifier
                .notify(user, Kind::ModerationWarning, None, &details, Some(key))
                .await?;
        }
        (OperatorAction::Suspend, Some(user)) => suspend(state, user, until).await?,
        _ => {}
    }
    if let Some(id) = challenge
        && store.purge_challenge(id).await?
    {
        delivery::revoke_room(&*state.rooms, &state.media, id, None, Revocation::Deleted).await;
    }
    tracing::info!(
        report_id,
        operator,
        action = decision.action.as_str(),
        "report decided"
    );
    Ok(store.report(report_id).await?.unwrap_or(report))
}

/// Suspends `user` until `until` (`None`: for good): their sessions are deleted and their
/// sockets closed on every node (4401) at once; their content is hidden while it lasts.
pub async fn suspend(state: &AppState, user: i64, until: Option<Timestamp>) -> AppResult<()> {
    state.store.suspend(user, until).await?;
    // This node forgets its cached sessions now; other nodes' caches expire within their TTL
    // (1 s by default), and their sockets close at once through the eviction.
    state.session_cache.forget_user(user);
    state.sockets.sign_out_everywhere(user).await;
    Ok(())
}
