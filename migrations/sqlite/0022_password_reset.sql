-- Password-reset links (issue 19): single use, expiring, only the token's SHA-256 is stored.
-- requested_by is the admin who sent a set-password link (NULL: the user asked themselves).
CREATE TABLE password_resets (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      TEXT    NOT NULL UNIQUE,
    created_at      TEXT    NOT NULL,
    expires_at      TEXT    NOT NULL,
    used_at         TEXT,
    requested_by    INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);
