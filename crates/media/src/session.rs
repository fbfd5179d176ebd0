//! One peer's media session: its `Rtc`, the server-driven negotiation (revisions, m-line
//! recycling) and the meter of the video it publishes. Owned by its room actor.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use str0m::Rtc;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, MediaTime, Mid};

use crate::presence::PresenceMeter;
use crate::{
    Offer, PeerEvent, PeerId, PeerSink, PublishMids, Refusal, TrackInfo, TrackKind, UserId,
};

/// The longest answer SDP taken (the socket layer refuses longer ones first).
pub const MAX_SDP: usize = 64 * 1024;

/// A track this peer should receive: whose, and which kind.
pub type Want = (UserId, TrackKind);

/// A sending m-line of the server (a receiving one for the client).
#[derive(Debug)]
pub struct Slot {
    pub mid: Mid,
    pub kind: TrackKind,
    /// The member it carries (`None`: inactive, free for the next track of its kind).
    pub user: Option<UserId>,
    /// Confirmed by an answer: media flows on it only then.
    pub live: bool,
    /// Keeps the outgoing RTP timestamps continuous when the source changes.
    pub rebase: Rebase,
}

/// RTP timestamp rebasing of one outgoing m-line: when the peer (source) behind it changes, the
/// new source's timestamps are shifted to continue where the last one ended.
#[derive(Debug, Default)]
pub struct Rebase {
    source: Option<PeerId>,
    offset: u64,
    last_out: Option<u64>,
}

impl Rebase {
    /// The outgoing timestamp for `time` from `source`.
    pub fn map(&mut self, source: PeerId, time: MediaTime, step: u64) -> MediaTime {
        let input = time.numer();
        if self.source != Some(source) {
            self.source = Some(source);
            let target = self.last_out.map_or(input, |last| last.wrapping_add(step));
            self.offset = target.wrapping_sub(input);
        }
        let out = input.wrapping_add(self.offset);
        self.last_out = Some(out);
        MediaTime::new(out, time.frequency())
    }
}

struct Pending {
    revision: u64,
    offer: SdpPendingOffer,
    /// m-lines this offer adds (they exist in the session only once the answer is applied).
    added: Vec<Slot>,
}

/// One media session.
pub struct Session {
    pub peer: PeerId,
    pub user: UserId,
    pub sink: Arc<dyn PeerSink>,
    pub rtc: Rtc,
    pub publish_video: Mid,
    pub publish_audio: Mid,
    pub slots: Vec<Slot>,
    pub meter: PresenceMeter,
    /// Tiles this peer shows.
    pub view: BTreeSet<UserId>,
    /// When video last started arriving (picks a user's source among its tabs).
    pub video_since: Option<Instant>,
    /// When this peer's video was last verified (the same).
    pub verified_since: Option<Instant>,
    pub last_audio: Option<Instant>,
    pub last_receive: Instant,
    /// The next time str0m wants a timeout.
    pub wake_at: Instant,
    /// Keyframe requests to this peer: when the last went out, and whether one is owed.
    pub last_pli: Option<Instant>,
    pub pli_owed: bool,
    /// A failed negotiation or a restart asks for a new offer.
    pub needs_offer: bool,
    pub ice_restart: bool,
    revision: u64,
    pending: Option<Pending>,
}

impl Session {
    /// A session whose first offer (revision 1, delivered to `sink`) has the two publish
    /// m-lines and the tracks in `want`.
    pub fn new(
        peer: PeerId,
        user: UserId,
        sink: Arc<dyn PeerSink>,
        mut rtc: Rtc,
        meter: PresenceMeter,
        want: &BTreeSet<Want>,
        now: Instant,
    ) -> Session {
        let mut slots = vec![];
        let mut api = rtc.sdp_api();
        let publish_video = api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        let publish_audio = api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
        let added = plan(&mut api, &mut slots, want);
        let first = api.apply();
        let mut session = Session {
            peer,
            user,
            sink,
            rtc,
            publish_video,
            publish_audio,
            slots,
            meter,
            view: BTreeSet::new(),
            video_since: None,
            verified_since: None,
            last_audio: None,
            last_receive: now,
            wake_at: now,
            last_pli: None,
            pli_owed: false,
            needs_offer: first.is_none(),
            ice_restart: false,
            revision: 0,
            pending: None,
        };
        if let Some((offer, pending)) = first {
            session.send_offer(offer.to_sdp_string(), pending, added);
        }
        session
    }

    /// The local ICE username fragment (the demultiplexer's key for STUN).
    pub fn ufrag(&mut self) -> String {
        self.rtc.direct_api().local_ice_credentials().ufrag
    }

    /// The tracks the committed m-lines carry.
    fn planned(&self) -> BTreeSet<Want> {
        self.slots
            .iter()
            .filter_map(|s| s.user.map(|u| (u, s.kind)))
            .collect()
    }

    /// Makes and delivers a new offer if `want` differs from the m-lines (or a restart or a
    /// failed negotiation asks for one). One offer at a time: while one waits for its answer,
    /// changes wait too (a client that applied an offer has its m-lines for good, so the next
    /// offer must build on it, never replace it). Freed m-lines go inactive; new tracks take
    /// m-lines that were already inactive, else new ones: a mid never changes its member within
    /// one offer, so every change of the `tracks` list is also a change of the SDP.
    pub fn negotiate(&mut self, want: &BTreeSet<Want>) {
        if self.pending.is_some() {
            return;
        }
        if &self.planned() == want && !self.needs_offer && !self.ice_restart {
            return;
        }
        let mut api = self.rtc.sdp_api();
        let added = plan(&mut api, &mut self.slots, want);
        if self.ice_restart {
            api.ice_restart(true);
        }
        // The same offer again (a retry after a failed negotiation) needs a change str0m sees;
        // a direction it already has is no change, so renegotiate through an ICE restart.
        if !api.has_changes() && self.needs_offer {
            api.ice_restart(true);
        }
        self.ice_restart = false;
        self.needs_offer = false;
        if let Some((offer, pending)) = api.apply() {
            self.send_offer(offer.to_sdp_string(), pending, added);
        }
    }

    fn send_offer(&mut self, sdp: String, offer: SdpPendingOffer, added: Vec<Slot>) {
        self.revision += 1;
        let tracks = self
            .slots
            .iter()
            .chain(added.iter())
            .filter_map(|s| {
                s.user.map(|user| TrackInfo {
                    mid: s.mid.to_string(),
                    user,
                    kind: s.kind,
                })
            })
            .collect();
        self.pending = Some(Pending {
            revision: self.revision,
            offer,
            added,
        });
        self.sink.deliver(PeerEvent::Offer(Offer {
            revision: self.revision,
            sdp,
            publish: PublishMids {
                video: self.publish_video.to_string(),
                audio: self.publish_audio.to_string(),
            },
            tracks,
        }));
    }

    /// Applies the answer to the latest offer; returns the members whose video just went live
    /// here (they owe this peer a keyframe).
    pub fn answer(&mut self, revision: u64, sdp: &str) -> Result<Vec<UserId>, Refusal> {
        if sdp.len() > MAX_SDP {
            return Err(Refusal::BadAnswer(format!(
                "the SDP is longer than {MAX_SDP} bytes"
            )));
        }
        if revision < self.revision {
            return Err(Refusal::StaleRevision);
        }
        if revision > self.revision || self.pending.is_none() {
            return Err(Refusal::BadAnswer(format!(
                "no offer with revision {revision} is waiting for an answer"
            )));
        }
        // str0m's parse error shows parser internals (addresses): log it, tell less.
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| {
            tracing::debug!(peer = self.peer, error = %e, "unparsable answer");
            Refusal::BadAnswer("unparsable SDP".into())
        })?;
        let Some(pending) = self.pending.take() else {
            return Err(Refusal::BadAnswer("no offer is waiting".into()));
        };
        if pending.revision != revision {
            return Err(Refusal::StaleRevision);
        }
        if let Err(e) = self.rtc.sdp_api().accept_answer(pending.offer, answer) {
            // str0m consumed the offer: the next one (a new revision) starts over.
            self.needs_offer = true;
            return Err(Refusal::BadAnswer(format!(
                "answer does not fit the offer: {e}"
            )));
        }
        self.slots.extend(pending.added);
        let mut newly_live = vec![];
        for slot in &mut self.slots {
            if let Some(user) = slot.user
                && !slot.live
            {
                slot.live = true;
                if slot.kind == TrackKind::Video {
                    newly_live.push(user);
                }
            }
        }
        Ok(newly_live)
    }

    /// The m-line carrying `user`'s `kind` to this peer, if media may flow on it now.
    pub fn live_slot(&mut self, user: UserId, kind: TrackKind) -> Option<&mut Slot> {
        self.slots
            .iter_mut()
            .find(|s| s.live && s.user == Some(user) && s.kind == kind)
    }

    /// The member carried on `mid` (for keyframe requests coming back from this peer).
    pub fn user_on(&self, mid: Mid) -> Option<UserId> {
        self.slots
            .iter()
            .find(|s| s.mid == mid)
            .and_then(|s| s.user)
    }
}

/// Plans the m-lines for `want` on top of `slots`: freed m-lines go inactive; new tracks take
/// m-lines that were inactive before this plan, else new ones (returned: they join `slots` only
/// when the answer is applied).
fn plan(
    api: &mut str0m::change::SdpApi<'_>,
    slots: &mut [Slot],
    want: &BTreeSet<Want>,
) -> Vec<Slot> {
    let mut freed = vec![];
    for (index, slot) in slots.iter_mut().enumerate() {
        if let Some(user) = slot.user
            && !want.contains(&(user, slot.kind))
        {
            api.set_direction(slot.mid, Direction::Inactive);
            slot.user = None;
            slot.live = false;
            freed.push(index);
        }
    }
    let mut added: Vec<Slot> = vec![];
    for &(user, kind) in want {
        if slots.iter().any(|s| s.user == Some(user) && s.kind == kind) {
            continue;
        }
        let reusable = slots
            .iter_mut()
            .enumerate()
            .find(|(index, s)| s.user.is_none() && s.kind == kind && !freed.contains(index));
        if let Some((_, slot)) = reusable {
            api.set_direction(slot.mid, Direction::SendOnly);
            slot.user = Some(user);
            slot.live = false;
        } else {
            let media_kind = match kind {
                TrackKind::Video => MediaKind::Video,
                TrackKind::Audio => MediaKind::Audio,
            };
            let stream = format!("user-{user}");
            let mid = api.add_media(media_kind, Direction::SendOnly, Some(stream), None, None);
            added.push(Slot {
                mid,
                kind,
                user: Some(user),
                live: false,
                rebase: Rebase::default(),
            });
        }
    }
    added
}
