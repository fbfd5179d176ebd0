-- Tags, the creator's notice, and wishes (찜).
--
-- challenge_tags: up to five per challenge, unique by tag_key (the lower-cased tag), kept in
-- the creator's order (position); `tag` is the spelling shown.
CREATE TABLE challenge_tags (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    tag_key      TEXT NOT NULL,
    tag          TEXT NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, tag_key)
);
CREATE INDEX challenge_tags_key ON challenge_tags (tag_key);

-- The notice the creator may edit at any time (NULL: none).
ALTER TABLE challenges ADD COLUMN notice TEXT;
ALTER TABLE challenges ADD COLUMN notice_updated_at BIGINT;

-- One row per (user, challenge) wished; challenges.wish_count is kept equal to the rows by
-- the store, in the transaction that inserts or deletes a row (and only when it did).
CREATE TABLE wishes (
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    challenge_id BIGINT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, challenge_id)
);
CREATE INDEX wishes_challenge ON wishes (challenge_id);
CREATE INDEX wishes_user_time ON wishes (user_id, created_at, challenge_id);
ALTER TABLE challenges ADD COLUMN wish_count BIGINT NOT NULL DEFAULT 0;

-- sort=popular: two points per participant, one per wish (ssgwan_domain::challenge::popularity),
-- computed by the database so no write can forget it, and indexed for keyset paging.
ALTER TABLE challenges ADD COLUMN popularity BIGINT GENERATED ALWAYS AS (2 * participant_count + wish_count) STORED;
CREATE INDEX challenges_popularity ON challenges (popularity, id);
DROP INDEX challenges_popular;
