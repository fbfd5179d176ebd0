-- Who uploaded which file: a user may set as profile image or thumbnail only the path of a
-- file they uploaded themselves, each day's uploads count against their quota, and the
-- periodic sweep deletes files that no row refers to. One row per (file, uploader): the key
-- names the content, so two users uploading the same picture share one object. used_at is
-- when the uploader last set it as a picture (the sweep leaves rows used within its grace).
CREATE TABLE uploads (
    file_key   VARCHAR(80) COLLATE utf8mb4_bin NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (file_key, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX uploads_user ON uploads (user_id, created_at);
CREATE INDEX uploads_created ON uploads (created_at);

-- Files referred to before this migration become their referrer's uploads, so pictures in use
-- stay theirs (and the sweep keeps them).
INSERT INTO uploads (file_key, user_id, size, created_at, used_at)
SELECT DISTINCT substr(profile_image, 12), id, 0, updated_at, updated_at FROM users
WHERE profile_image LIKE '/api/files/%' AND LENGTH(profile_image) <= 91;
INSERT IGNORE INTO uploads (file_key, user_id, size, created_at, used_at)
SELECT substr(thumbnail, 12), creator_id, 0, MAX(updated_at), MAX(updated_at) FROM challenges
WHERE thumbnail LIKE '/api/files/%' AND LENGTH(thumbnail) <= 91
GROUP BY substr(thumbnail, 12), creator_id;
-- A thumbnail could be any URL until now; one not served here is dropped (every viewer's
-- browser fetched it). Profile images keep theirs: Kakao's pictures are https URLs.
UPDATE challenges SET thumbnail = NULL WHERE thumbnail NOT LIKE '/api/files/%';

-- The sweep looks pictures up by path (an upload's path is 80 characters; the prefix covers it).
CREATE INDEX users_profile_image ON users (profile_image(100));
CREATE INDEX challenges_thumbnail ON challenges (thumbnail(100));

-- Periodic work that one node of a cluster does at a time: a node runs a job after moving
-- claimed_until forward with a conditional update (whoever moves it, runs).
CREATE TABLE job_claims (
    name          VARCHAR(64) COLLATE utf8mb4_bin PRIMARY KEY,
    holder        VARCHAR(64) NOT NULL,
    claimed_until BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The daily creation limit counts a user's challenges created since the start of their day.
CREATE INDEX challenges_creator_created ON challenges (creator_id, created_at);

-- When a challenge's schedule was last set (at creation, or by an edit that moved its start):
-- a challenge earns points only when this was at least an hour before it starts
-- (ssgwan_domain::award). Rows so far take their creation time.
ALTER TABLE challenges ADD COLUMN scheduled_at BIGINT;
UPDATE challenges SET scheduled_at = created_at;
