-- Users, sessions, OAuth states, challenges, participants and attendance.
-- Instants are BIGINT unix milliseconds; civil dates are 'YYYY-MM-DD' text and times 'HH:MM',
-- so every backend stores and compares them the same way.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    kakao_id      BIGINT UNIQUE,
    nickname      TEXT NOT NULL,
    nickname_key  TEXT NOT NULL UNIQUE,
    bio           TEXT NOT NULL DEFAULT '',
    profile_image TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE TABLE challenges (
    id                BIGSERIAL PRIMARY KEY,
    creator_id        BIGINT NOT NULL REFERENCES users (id),
    title             TEXT NOT NULL,
    description       TEXT NOT NULL,
    search_text       TEXT NOT NULL,
    category          TEXT NOT NULL,
    thumbnail         TEXT,
    capacity          BIGINT NOT NULL,
    participant_count BIGINT NOT NULL,
    start_date        TEXT NOT NULL,
    end_date          TEXT NOT NULL,
    days_of_week      BIGINT NOT NULL,
    session_start     TEXT NOT NULL,
    session_end       TEXT NOT NULL,
    timezone          TEXT NOT NULL,
    min_minutes       BIGINT NOT NULL,
    success_rate      BIGINT NOT NULL,
    starts_at         BIGINT NOT NULL,
    ends_at           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CHECK (participant_count >= 0 AND participant_count <= capacity)
);
CREATE INDEX challenges_starts ON challenges (starts_at, id);
CREATE INDEX challenges_ends ON challenges (ends_at);
CREATE INDEX challenges_popular ON challenges (participant_count, id);
CREATE INDEX challenges_creator ON challenges (creator_id);

-- One row per (challenge, user): a cancelled place is reactivated on rejoin, so the primary
-- key alone guarantees nobody holds two places.
CREATE TABLE participants (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    joined_at    BIGINT NOT NULL,
    joined_on    TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, user_id)
);
CREATE INDEX participants_user ON participants (user_id, status);

CREATE TABLE attendance (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_date TEXT NOT NULL,
    seconds      BIGINT NOT NULL,
    achieved_at  BIGINT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, user_id, session_date)
);
CREATE INDEX attendance_user ON attendance (user_id, session_date);
