-- The score ledger: one row per achieved session (kind SESSION, its date) or completed
-- challenge (kind COMPLETION, date ''). The primary key makes scoring idempotent; boards are
-- rebuilt from these rows, which keep the time each score was earned.
CREATE TABLE score_ledger (
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    challenge_id BIGINT NOT NULL,
    kind         VARCHAR(16) NOT NULL,
    session_date VARCHAR(10) NOT NULL,
    points       BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, challenge_id, kind, session_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX score_ledger_time ON score_ledger (created_at);
