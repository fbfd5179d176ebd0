-- Users, sessions, OAuth states, challenges, participants and attendance.
-- Instants are BIGINT unix milliseconds; civil dates are 'YYYY-MM-DD' text and times 'HH:MM',
-- so every backend stores and compares them the same way.
-- Every table names its character set (utf8mb4: Korean and emoji) rather than trusting the
-- server's default. Text compares case-insensitively (utf8mb4_unicode_ci) except the keys that
-- must match exactly (nickname keys, token hashes, client ids: utf8mb4_bin). Columns the store
-- reads are VARCHARs sized to the domain's limits, never TEXT: sqlx's Any driver reads MySQL
-- TEXT as a BLOB. (search_text is only searched, never read, so it may be TEXT.)

CREATE TABLE users (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    kakao_id      BIGINT UNIQUE,
    nickname      VARCHAR(80) NOT NULL,
    nickname_key  VARCHAR(80) COLLATE utf8mb4_bin NOT NULL UNIQUE,
    bio           VARCHAR(1200) NOT NULL DEFAULT '',
    profile_image VARCHAR(1000),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
    token_hash VARCHAR(64) COLLATE utf8mb4_bin PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE oauth_states (
    state_hash VARCHAR(64) COLLATE utf8mb4_bin PRIMARY KEY,
    expires_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE challenges (
    id                BIGINT AUTO_INCREMENT PRIMARY KEY,
    creator_id        BIGINT NOT NULL REFERENCES users (id),
    title             VARCHAR(400) NOT NULL,
    description       VARCHAR(5000) NOT NULL,
    search_text       TEXT NOT NULL,
    category          VARCHAR(16) NOT NULL,
    thumbnail         VARCHAR(1000),
    capacity          BIGINT NOT NULL,
    participant_count BIGINT NOT NULL,
    start_date        VARCHAR(10) NOT NULL,
    end_date          VARCHAR(10) NOT NULL,
    days_of_week      BIGINT NOT NULL,
    session_start     VARCHAR(5) NOT NULL,
    session_end       VARCHAR(5) NOT NULL,
    timezone          VARCHAR(64) NOT NULL,
    min_minutes       BIGINT NOT NULL,
    success_rate      BIGINT NOT NULL,
    starts_at         BIGINT NOT NULL,
    ends_at           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CHECK (participant_count >= 0 AND participant_count <= capacity)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX challenges_starts ON challenges (starts_at, id);
CREATE INDEX challenges_ends ON challenges (ends_at);
CREATE INDEX challenges_popular ON challenges (participant_count, id);
CREATE INDEX challenges_creator ON challenges (creator_id);

-- One row per (challenge, user): a cancelled place is reactivated on rejoin, so the primary
-- key alone guarantees nobody holds two places.
CREATE TABLE participants (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       VARCHAR(16) NOT NULL,
    joined_at    BIGINT NOT NULL,
    joined_on    VARCHAR(10) NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX participants_user ON participants (user_id, status);

CREATE TABLE attendance (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_date VARCHAR(10) NOT NULL,
    seconds      BIGINT NOT NULL,
    achieved_at  BIGINT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, user_id, session_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX attendance_user ON attendance (user_id, session_date);
