-- Foundation schema (SQLite dialect). Keep in step with migrations/postgres/0001_foundation.sql.
-- Timestamps are written by the application (RFC 3339 UTC text), never by SQL defaults,
-- so that both backends compare them the same way.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    email           TEXT    NOT NULL,            -- stored lower-cased
    display_name    TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,            -- argon2id PHC string
    role            TEXT    NOT NULL CHECK (role IN ('admin', 'client', 'viewer')),
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TEXT    NOT NULL,
    last_login_at   TEXT
);
CREATE UNIQUE INDEX users_email_ci ON users (lower(email));

CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    token_hash      TEXT    NOT NULL UNIQUE,     -- SHA-256 of the cookie value; the value itself is never stored
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      TEXT    NOT NULL,
    last_seen_at    TEXT    NOT NULL,
    expires_at      TEXT    NOT NULL,            -- absolute expiry
    ip              TEXT,
    user_agent      TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_failures (
    id              INTEGER PRIMARY KEY,
    scope           TEXT    NOT NULL CHECK (scope IN ('account', 'ip')),
    key             TEXT    NOT NULL,
    at              TEXT    NOT NULL
);
CREATE INDEX login_failures_lookup ON login_failures (scope, key, at);

CREATE TABLE settings (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);

CREATE TABLE workspaces (
    id                      INTEGER PRIMARY KEY,
    name                    TEXT    NOT NULL,
    slug                    TEXT    NOT NULL UNIQUE,
    active                  BOOLEAN NOT NULL DEFAULT TRUE,
    monthly_lead_target     BIGINT  NOT NULL DEFAULT 0 CHECK (monthly_lead_target >= 0),
    daily_send_target       BIGINT  NOT NULL DEFAULT 0 CHECK (daily_send_target >= 0),
    weekly_contact_target   BIGINT  NOT NULL DEFAULT 0 CHECK (weekly_contact_target >= 0),
    pricing_model           TEXT    NOT NULL DEFAULT 'per_lead' CHECK (pricing_model IN ('per_lead', 'retainer')),
    price_per_lead_cents    BIGINT  NOT NULL DEFAULT 0 CHECK (price_per_lead_cents >= 0),
    retainer_fee_cents      BIGINT  NOT NULL DEFAULT 0 CHECK (retainer_fee_cents >= 0),
    billable_stage          TEXT    NOT NULL DEFAULT 'interested',
    bison_workspace_id      TEXT,
    bison_api_key_enc       BLOB,                -- XChaCha20-Poly1305 under MAVERICK_SECRET_KEY
    bison_api_key_hint      TEXT,                -- last four characters, for the masked display
    created_at              TEXT    NOT NULL,
    updated_at              TEXT    NOT NULL
);

CREATE TABLE user_workspace_access (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    level           TEXT    NOT NULL CHECK (level IN ('client', 'viewer')),
    granted_at      TEXT    NOT NULL,
    granted_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (user_id, workspace_id)
);
CREATE INDEX user_workspace_access_ws ON user_workspace_access (workspace_id);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    actor_user_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor_email     TEXT,                        -- kept when the user row goes away
    action          TEXT    NOT NULL,
    target          TEXT,
    ip              TEXT,
    at              TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE worker_heartbeats (
    worker_id       TEXT PRIMARY KEY,
    hostname        TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    seen_at         TEXT NOT NULL
);
