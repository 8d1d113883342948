-- Password-reset links (issue 19): single use, expiring, only the token's SHA-256 is stored.
-- requested_by is the admin who sent a set-password link (NULL: the user asked themselves).
CREATE TABLE password_resets (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      TEXT        NOT NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ,
    requested_by    BIGINT      REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);
