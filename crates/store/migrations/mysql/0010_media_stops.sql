-- Host media stops (issue 18): a member whose video or audio a host stopped. While the row
-- exists the media server forwards that kind of the member's media to nobody (it still
-- receives and meters it). One row per (challenge, member, kind); allowing again deletes it.
CREATE TABLE media_stops (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         VARCHAR(8) NOT NULL CHECK (kind IN ('video', 'audio')),
    stopped_by   BIGINT NOT NULL,
    stopped_at   BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, user_id, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
