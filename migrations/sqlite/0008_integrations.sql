-- Email Bison webhooks and Slack notifications. Keep in step with the PostgreSQL file.

-- The webhook URL's secret path segment: only its SHA-256 is kept (shown once when rotated).
ALTER TABLE workspaces ADD COLUMN bison_webhook_token_hash TEXT;
ALTER TABLE workspaces ADD COLUMN bison_webhook_hint TEXT;
CREATE UNIQUE INDEX workspaces_bison_webhook ON workspaces (bison_webhook_token_hash);
-- The workspace's Slack incoming-webhook URL, sealed like the Bison key.
ALTER TABLE workspaces ADD COLUMN slack_webhook_enc BLOB;
ALTER TABLE workspaces ADD COLUMN slack_webhook_hint TEXT;

-- Every delivery, stored before we answer 2xx; processed afterwards (and at start-up).
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL,                 -- 'bison'
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    received_at     TEXT    NOT NULL,
    event_type      TEXT,                             -- lower_snake; NULL when unreadable
    dedupe_key      TEXT,                             -- a repeated delivery of the same thing
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'processing', 'processed', 'ignored', 'failed')),
    error           TEXT,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    claimed_at      TEXT,
    processed_at    TEXT
);
CREATE UNIQUE INDEX webhook_deliveries_dedupe ON webhook_deliveries (workspace_id, dedupe_key);
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, id);

-- Slack messages waiting to be posted (retried with backoff; a failure never blocks the sender).
CREATE TABLE slack_messages (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER REFERENCES workspaces (id) ON DELETE CASCADE,   -- NULL: the agency channel
    text            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT
);
CREATE INDEX slack_messages_due ON slack_messages (status, next_attempt_at);
