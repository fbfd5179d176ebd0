-- Chat messages, numbered per room: `seq` is the id clients see, increasing within a room in
-- commit order, so "everything after seq N" never misses a message that commits late.
-- (challenge_id, user_id, client_id) makes a resent message idempotent.
CREATE TABLE chat_messages (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id    VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    body         VARCHAR(1000) NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX chat_messages_client ON chat_messages (challenge_id, user_id, client_id);

-- When the completion job settled the challenge's participants (NULL: not yet).
ALTER TABLE challenges ADD COLUMN finalized_at BIGINT;
CREATE INDEX challenges_unfinalized ON challenges (finalized_at, ends_at);
