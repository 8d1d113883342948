-- Email Bison webhooks and Slack notifications. Keep in step with the SQLite file.

-- The webhook URL's secret path segment: only its SHA-256 is kept (shown once when rotated).
ALTER TABLE workspaces ADD COLUMN bison_webhook_token_hash TEXT;
ALTER TABLE workspaces ADD COLUMN bison_webhook_hint TEXT;
CREATE UNIQUE INDEX workspaces_bison_webhook ON workspaces (bison_webhook_token_hash);
-- The workspace's Slack incoming-webhook URL, sealed like the Bison key.
ALTER TABLE workspaces ADD COLUMN slack_webhook_enc BYTEA;
ALTER TABLE workspaces ADD COLUMN slack_webhook_hint TEXT;

-- Every delivery, stored before we answer 2xx; processed afterwards (and at start-up).
CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          TEXT    NOT NULL,                 -- 'bison'
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    received_at     TIMESTAMPTZ NOT NULL,
    event_type      TEXT,                             -- lower_snake; NULL when unreadable
    dedupe_key      TEXT,                             -- a repeated delivery of the same thing
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'processing', 'processed', 'ignored', 'failed')),
    error           TEXT,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    claimed_at      TIMESTAMPTZ,
    processed_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX webhook_deliveries_dedupe ON webhook_deliveries (workspace_id, dedupe_key);
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, id);

-- Slack messages waiting to be posted (retried with backoff; a failure never blocks the sender).
CREATE TABLE slack_messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT  REFERENCES workspaces (id) ON DELETE CASCADE,   -- NULL: the agency channel
    text            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX slack_messages_due ON slack_messages (status, next_attempt_at);
