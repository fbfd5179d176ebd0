-- Calendar feeds, notifications (in the app, live, and by Web Push) and their settings.
--
-- calendar_feeds: one secret feed address per user. The token itself is derived by the server
-- (HMAC of the user and the generation under the server's calendar key); only its hash is here,
-- so a leaked table leaks no feed. A reset moves to the next generation.
CREATE TABLE calendar_feeds (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    generation BIGINT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    updated_at BIGINT NOT NULL
);

-- One row per notification. `dedupe_key` (unique per user) makes creating one idempotent: a
-- reminder is claimed by inserting its key, so however many nodes try, one row exists and only
-- the node whose insert succeeded delivers it.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    challenge_id BIGINT REFERENCES challenges (id) ON DELETE CASCADE,
    data         TEXT NOT NULL,
    dedupe_key   TEXT,
    created_at   BIGINT NOT NULL,
    read_at      BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, read_at);
CREATE UNIQUE INDEX notifications_dedupe ON notifications (user_id, dedupe_key);

-- What a user wants to hear about (no row: the defaults). `kinds` is a bit set of the
-- notification kinds (ssgwan_domain::notification::KindSet); quiet hours are 'HH:MM' local
-- times in `timezone` (NULL: none).
CREATE TABLE notification_settings (
    user_id        BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    kinds          BIGINT NOT NULL,
    minutes_before BIGINT NOT NULL,
    quiet_start    TEXT,
    quiet_end      TEXT,
    timezone       TEXT,
    updated_at     BIGINT NOT NULL
);

-- The browsers' Web Push subscriptions (RFC 8030); an endpoint belongs to one user.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
