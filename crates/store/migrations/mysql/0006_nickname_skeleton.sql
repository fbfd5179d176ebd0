-- Nicknames are unique by their confusable skeleton (ssgwan_domain::user::nickname_skeleton:
-- the Unicode TR39 skeleton of the lower-cased NFKC name), so "admin", "Admin", Cyrillic
-- "аdmin" and fullwidth "ａｄｍｉｎ" cannot all exist. SQL cannot compute a skeleton, so the
-- column starts NULL: every write fills it, and SqlStore::migrate fills the rows lacking one
-- right after the migrations run. A row whose skeleton an earlier row already holds stays
-- NULL (a unique index admits many NULLs) until its owner picks a new nickname.
ALTER TABLE users ADD COLUMN nickname_skeleton VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;
CREATE UNIQUE INDEX users_nickname_skeleton ON users (nickname_skeleton);
