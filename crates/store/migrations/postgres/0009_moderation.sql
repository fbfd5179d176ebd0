-- Moderation (issue 18): removed members, co-hosts, deleted chat messages, locked rooms,
-- reports, blocks, operators, suspensions and the audit log.
--
-- A removed member's place is CANCELLED (the participant-count trigger frees it) and marked
-- `removed_at`: a join never reactivates a removed place, and the completion job (which settles
-- ACTIVE places only) never credits it. Their attendance rows stay for the record.
ALTER TABLE participants ADD COLUMN removed_at BIGINT;
ALTER TABLE participants ADD COLUMN removed_by BIGINT;

-- A message deleted by a host keeps its number (the room's numbering has no holes); its body is
-- blanked and `deleted_at` set.
ALTER TABLE chat_messages ADD COLUMN deleted_at BIGINT;
ALTER TABLE chat_messages ADD COLUMN deleted_by BIGINT;

-- At most three co-hosts per challenge: each holds one of the slots 1..3, so the primary key
-- refuses a fourth however many requests race.
CREATE TABLE challenge_cohosts (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    slot         BIGINT NOT NULL CHECK (slot BETWEEN 1 AND 3),
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    appointed_at BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, slot)
);
CREATE UNIQUE INDEX challenge_cohosts_user ON challenge_cohosts (challenge_id, user_id);

-- A room locked for one session date (the challenge's local date): no new joins of the live
-- room that day.
CREATE TABLE room_locks (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    session_date TEXT NOT NULL,
    locked_by    BIGINT NOT NULL,
    locked_at    BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, session_date)
);

-- Reports: one per reporter and target (`target_key`: `user:<id>`, `challenge:<id>`,
-- `message:<challenge>:<seq>`). `subject_id` is the user the report is about (the member, the
-- message's author, the challenge's creator).
CREATE TABLE reports (
    id           BIGSERIAL PRIMARY KEY,
    reporter_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_type  TEXT NOT NULL,
    target_key   TEXT NOT NULL,
    subject_id   BIGINT REFERENCES users (id) ON DELETE CASCADE,
    challenge_id BIGINT,
    message_seq  BIGINT,
    reason       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    resolved_at  BIGINT,
    resolved_by  BIGINT
);
CREATE UNIQUE INDEX reports_once ON reports (reporter_id, target_key);
CREATE INDEX reports_queue ON reports (status, id);

-- Blocks, one row per (blocker, blocked); both directions are looked up.
CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);

-- Operators (granted by the CLI only) and suspensions (`suspended_until`: NULL none; the
-- largest instant for good).
CREATE TABLE operators (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    granted_at BIGINT NOT NULL
);
ALTER TABLE users ADD COLUMN suspended_until BIGINT;

-- The audit log: appended to, never changed (no statement of the server updates or deletes it).
CREATE TABLE audit_log (
    id         BIGSERIAL PRIMARY KEY,
    actor_id   BIGINT,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at, id);
