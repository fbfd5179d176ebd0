//! `ssgwan seed`: fills a database with realistic demo data through the same domain and store
//! code the server uses, so every invariant holds: challenges are validated drafts created
//! before their start, places are taken with capacity-checked joins, attendance is on-camera
//! time inside each participant's own session windows, ended challenges are settled by the
//! completion job, and the score ledger is reconciled from what was achieved.
//!
//! Time is simulated with a manual clock moving through the last `days` days; the same
//! `--rng-seed` gives the same data.

use std::{sync::Arc, time::Instant};

use futures::{StreamExt, stream};
use jiff::{SignedDuration, Timestamp, ToSpan, civil::Date, tz::TimeZone};
use rand::{
    Rng, SeedableRng,
    rngs::StdRng,
    seq::{IndexedRandom, SliceRandom},
};
use ssgwan_domain::{
    ChallengeDraft, Clock, ManualClock, attendance::ParticipantSchedule, schedule::DAY_NAMES,
};
use ssgwan_store::{NewUser, Store, StoreError};

use crate::config::SeedArgs;

const SURNAMES: [&str; 12] = [
    "김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오",
];
const GIVEN: [&str; 16] = [
    "민준", "서연", "도윤", "하은", "지호", "수아", "예준", "지유", "시우", "서윤", "주원", "하린",
    "건우", "채원", "우진", "다은",
];
const TITLES: [(&str, [&str; 4]); 6] = [
    (
        "STUDY",
        [
            "새벽 공부",
            "토익 900 도전",
            "코딩 테스트 준비",
            "자격증 스터디",
        ],
    ),
    (
        "WORKOUT",
        ["홈트 30분", "아침 스트레칭", "플랭크 챌린지", "저녁 요가"],
    ),
    (
        "MORNING",
        ["미라클 모닝", "6시 기상", "아침 일기", "새벽 명상"],
    ),
    (
        "READING",
        [
            "하루 30쪽 독서",
            "고전 읽기",
            "영어 원서 읽기",
            "출근 전 독서",
        ],
    ),
    (
        "HOBBY",
        ["드로잉 연습", "기타 연습", "캘리그라피", "사진 보정"],
    ),
    (
        "ETC",
        ["가계부 쓰기", "방 정리", "감사 일기", "물 2리터 마시기"],
    ),
];
const CHAT: [&str; 8] = [
    "안녕하세요! 오늘도 화이팅",
    "카메라 켰어요",
    "오늘은 조금 늦었네요",
    "다들 수고하셨습니다",
    "내일도 이 시간에 만나요",
    "집중 잘 되네요",
    "good morning!",
    "오늘 목표 달성 🎉",
];

/// Tags seeded challenges draw from (0–3 each), so tag filters and the popular list have data.
const TAG_POOL: [&str; 12] = [
    "습관",
    "아침루틴",
    "미라클모닝",
    "공부",
    "영어",
    "홈트",
    "러닝",
    "독서",
    "자기계발",
    "집중",
    "취미",
    "함께해요",
];

/// What `seed` made, and how long it took.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub users: usize,
    pub challenges: usize,
    pub places: usize,
    pub cancelled: usize,
    pub attendance_days: usize,
    pub achieved: usize,
    pub messages: usize,
    pub wishes: usize,
    pub settled: usize,
    pub score_entries: u64,
    pub seconds: f64,
}

struct Planned {
    id: i64,
    start: Date,
}

/// Seeds the database the arguments name (migrating it first).
pub async fn seed(args: &SeedArgs) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let store: Arc<dyn Store> = Arc::new(crate::open_store(&args.database).await?);
    let mut report = SeedReport::default();
    let mut rng = StdRng::seed_from_u64(args.rng_seed);
    let seoul = TimeZone::get("Asia/Seoul")?;
    let now = Timestamp::now();
    let today = now.to_zoned_datetime(seoul.clone()).date();
    let clock = Arc::new(ManualClock::new(
        now.checked_sub(SignedDuration::from_hours(24 * (i64::from(args.days) + 2)))?,
    ));

    // Users, with unique nicknames (a run number keeps reruns on the same database apart).
    let run: u32 = rng.random_range(1000..10_000);
    let names: Vec<String> = (0..args.users)
        .map(|i| {
            format!(
                "{}{}{}",
                SURNAMES[i % SURNAMES.len()],
                GIVEN[(i / SURNAMES.len()) % GIVEN.len()],
                format_args!("{run}{i}")
            )
            .chars()
            .take(20)
            .collect()
        })
        .collect();
    let created: Vec<Result<i64, StoreError>> = stream::iter(names)
        .map(|nickname| {
            let store = store.clone();
            let at = clock.now();
            async move {
                store
                    .create_user(
                        NewUser {
                            kakao_id: None,
                            nickname,
                            profile_image: None,
                        },
                        at,
                    )
                    .await
                    .map(|u| u.id)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let users: Vec<i64> = created.into_iter().collect::<Result<_, _>>()?;
    report.users = users.len();

    // Challenges: starts spread from `days` ago to two weeks ahead, so every status occurs.
    let mut planned = Vec::new();
    for i in 0..args.challenges {
        let (category, titles) = TITLES[i % TITLES.len()];
        let start = today
            .checked_sub(i64::from(rng.random_range(0..args.days.max(1) + 14)).days())?
            .checked_add(14.days())?;
        let end = start.checked_add(i64::from(rng.random_range(0..21)).days())?;
        let hour: i8 = rng.random_range(5..22);
        let length = [30, 60, 90][rng.random_range(0..3)];
        let mut days: Vec<String> = DAY_NAMES
            .iter()
            .filter(|_| rng.random_bool(0.7))
            .map(|d| (*d).to_owned())
            .collect();
        if days.is_empty() {
            days.push("MON".into());
        }
        let session_start = format!("{hour:02}:00");
        let tag_count = rng.random_range(0..=3);
        let end_minutes = i32::from(hour) * 60 + length;
        let draft = ChallengeDraft {
            title: Some(format!(
                "{} #{}",
                titles[rng.random_range(0..titles.len())],
                i + 1
            )),
            description: Some(format!(
                "{} 함께 해요. 카메라를 켜고 {}분 이상 참여하면 출석입니다.",
                titles[0],
                length / 2
            )),
            category: Some(category.to_owned()),
            capacity: Some(rng.random_range(2..=50)),
            start_date: Some(start.to_string()),
            end_date: Some(end.to_string()),
            days_of_week: Some(days),
            session_start: Some(session_start),
            session_end: Some(format!("{:02}:{:02}", end_minutes / 60, end_minutes % 60)),
            min_minutes: Some(i64::from(length / 2)),
            success_rate: Some(rng.random_range(5..=10) * 10),
            tags: Some(
                TAG_POOL
                    .choose_multiple(&mut rng, tag_count)
                    .map(|t| (*t).to_owned())
                    .collect(),
            ),
            ..Default::default()
        };
        // Created the day before it starts, as a creator would.
        let created_at = start
            .yesterday()?
            .to_zoned_datetime(seoul.clone())?
            .timestamp()
            .checked_add(SignedDuration::from_hours(12))?;
        clock.set(created_at);
        let Ok(spec) = draft.validate(clock.now()) else {
            continue;
        };
        let creator = users[rng.random_range(0..users.len())];
        let id = store
            .create_challenge(
                creator,
                &spec,
                spec.schedule.local_date(clock.now()),
                clock.now(),
                ssgwan_store::CreationLimit::NONE,
            )
            .await?;
        planned.push(Planned { id, start });
    }
    report.challenges = planned.len();

    // Places: joins before the start (some during), a few cancellations before the start; and
    // a few wishes from people browsing before it starts.
    for challenge in &planned {
        let Some(record) = store.challenge(challenge.id, None).await? else {
            continue;
        };
        let wished_at = challenge
            .start
            .yesterday()?
            .to_zoned_datetime(seoul.clone())?
            .timestamp()
            .checked_add(SignedDuration::from_hours(rng.random_range(13..23)))?
            .min(now);
        let wishers = rng.random_range(0..=4);
        for user in users.choose_multiple(&mut rng, wishers) {
            if store.wish(*user, challenge.id, wished_at).await? {
                report.wishes += 1;
            }
        }
        let capacity = record.spec.capacity as usize;
        let wanted = rng.random_range(1..=capacity);
        let mut candidates = users.clone();
        candidates.shuffle(&mut rng);
        for user in candidates.into_iter().take(wanted + 2) {
            let late = rng.random_bool(0.15);
            let at = if late {
                challenge
                    .start
                    .to_zoned_datetime(seoul.clone())?
                    .timestamp()
                    .checked_add(SignedDuration::from_hours(rng.random_range(1..48)))?
            } else {
                challenge
                    .start
                    .yesterday()?
                    .to_zoned_datetime(seoul.clone())?
                    .timestamp()
                    .checked_add(SignedDuration::from_hours(rng.random_range(13..23)))?
            };
            if at > now {
                continue;
            }
            clock.set(at);
            if store.join_challenge(challenge.id, user, at).await.is_ok() {
                report.places += 1;
                if !late
                    && rng.random_bool(0.05)
                    && store
                        .cancel_participation(challenge.id, user, at)
                        .await
                        .is_ok()
                {
                    report.cancelled += 1;
                    report.places -= 1;
                }
            }
        }
    }

    // Attendance: each participant has a diligence; past sessions are attended accordingly.
    let mut work = Vec::new();
    for challenge in &planned {
        let Some(record) = store.challenge(challenge.id, None).await? else {
            continue;
        };
        let schedule = Arc::new(record.spec.schedule.clone());
        let required = record.spec.required_seconds();
        for participant in store.participants(challenge.id).await? {
            let diligence: f64 = rng.random_range(0.2..1.0);
            let mine = ParticipantSchedule::new(&schedule, participant.joined_at);
            for date in schedule.session_days(schedule.start_date, schedule.end_date) {
                let (window_start, window_end) = schedule.session_window(date);
                if !mine.has_session(date) || window_end > now {
                    continue;
                }
                let seconds = if rng.random_bool(diligence) {
                    required + rng.random_range(0..=(schedule.session_minutes() * 60 - required))
                } else if rng.random_bool(0.3) {
                    rng.random_range(60..required.max(61))
                } else {
                    continue;
                };
                let at = window_start.checked_add(SignedDuration::from_secs(seconds))?;
                work.push((
                    challenge.id,
                    participant.user.id,
                    date,
                    seconds,
                    required,
                    at,
                ));
            }
        }
    }
    let written: Vec<Result<bool, StoreError>> = stream::iter(work)
        .map(|(room, user, date, seconds, required, at)| {
            let store = store.clone();
            async move {
                store
                    .add_attendance(room, user, date, seconds, required, at)
                    .await
                    .map(|u| u.newly_achieved)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for result in written {
        report.attendance_days += 1;
        report.achieved += usize::from(result?);
    }

    // A little chat in every challenge that has begun.
    for challenge in &planned {
        let participants = store.participants(challenge.id).await?;
        if participants.is_empty() || challenge.start > today {
            continue;
        }
        let at = challenge
            .start
            .to_zoned_datetime(seoul.clone())?
            .timestamp();
        for n in 0..rng.random_range(3..15) {
            let author = participants[rng.random_range(0..participants.len())]
                .user
                .id;
            let body = CHAT[rng.random_range(0..CHAT.len())];
            let at = at.checked_add(SignedDuration::from_mins(n))?;
            store
                .post_message(
                    challenge.id,
                    author,
                    &format!("seed-{n}"),
                    body,
                    at.min(now),
                )
                .await?;
            report.messages += 1;
        }
    }

    // Settle what has ended and record the scores it all earned.
    clock.set(now);
    let events = crate::events::channel();
    report.settled = crate::completion::settle_ended(&*store, &*clock, &events).await?;
    report.score_entries = store
        .reconcile_scores(&ssgwan_domain::award::AwardRules::DEFAULT)
        .await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
