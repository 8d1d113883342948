-- The integrations API (issue 13): the event log becomes the public event bus, outbound webhooks
-- are delivered from it, and scripts call REST v1 with bearer tokens and idempotency keys.

-- Event kinds take the public catalog's names (docs/integrations-api.md).
UPDATE workspace_events SET kind = 'lead.interested' WHERE kind = 'lead.arrived';
UPDATE workspace_events SET kind = 'lead.stage_changed' WHERE kind = 'lead.moved';
UPDATE workspace_events SET kind = 'lead.note_added' WHERE kind = 'lead.noted';
-- The W3C trace id of the request or job that caused the event.
ALTER TABLE workspace_events ADD COLUMN trace_id TEXT;
-- FALSE until the dispatcher has turned the event into webhook deliveries (in one transaction).
-- Events from before this migration predate every endpoint.
ALTER TABLE workspace_events ADD COLUMN fanned_out BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE workspace_events SET fanned_out = TRUE;
CREATE INDEX workspace_events_unfanned ON workspace_events (id) WHERE fanned_out = FALSE;

CREATE TABLE event_endpoints (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id          BIGINT  REFERENCES workspaces (id) ON DELETE CASCADE,  -- NULL: agency-wide
    url                   TEXT    NOT NULL,
    description           TEXT    NOT NULL DEFAULT '',
    event_types           TEXT    NOT NULL DEFAULT '',   -- comma-separated; empty: every type
    enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason       TEXT,
    secret_enc            TEXT    NOT NULL,
    previous_secret_enc   TEXT,                          -- still signed with until previous_until
    previous_until        TIMESTAMPTZ,
    header_name           TEXT,                          -- a static header (n8n's Header Auth)
    header_value_enc      TEXT,
    from_event_id         BIGINT  NOT NULL,              -- receives events after this id
    failing_since         TIMESTAMPTZ,                         -- first failure since the last success
    created_by            BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX event_endpoints_ws ON event_endpoints (workspace_id);

-- One row per (endpoint, event): the unique pair is what makes a delivery exactly-once.
-- A test message has no event; its body is kept in `payload`.
CREATE TABLE event_deliveries (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id       BIGINT  NOT NULL REFERENCES event_endpoints (id) ON DELETE CASCADE,
    event_id          BIGINT  REFERENCES workspace_events (id) ON DELETE CASCADE,
    event_type        TEXT    NOT NULL,
    message_id        TEXT    NOT NULL,                  -- webhook-id: the same on every attempt
    payload           TEXT,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMPTZ NOT NULL,
    claimed_until     TIMESTAMPTZ,
    last_status_code  BIGINT,
    last_error        TEXT,
    trace_id          TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX event_deliveries_due ON event_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX event_deliveries_endpoint ON event_deliveries (endpoint_id, id);

CREATE TABLE event_delivery_attempts (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id       BIGINT  NOT NULL REFERENCES event_deliveries (id) ON DELETE CASCADE,
    at                TIMESTAMPTZ NOT NULL,
    status_code       BIGINT,                            -- NULL: no answer (timeout, refused…)
    latency_ms        BIGINT  NOT NULL,
    response_excerpt  TEXT    NOT NULL DEFAULT '',
    error             TEXT
);
CREATE INDEX event_delivery_attempts_delivery ON event_delivery_attempts (delivery_id, id);

-- Bearer tokens for REST v1: stored as a SHA-256 of the token (the token is 32 random bytes, so a
-- slow hash adds nothing); the prefix is shown for recognition.
CREATE TABLE api_tokens (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT    NOT NULL,
    prefix         TEXT    NOT NULL,
    token_hash     TEXT    NOT NULL UNIQUE,
    workspace_id   BIGINT  REFERENCES workspaces (id) ON DELETE CASCADE,  -- NULL: agency-wide
    scope          TEXT    NOT NULL CHECK (scope IN ('read', 'write')),
    created_by     BIGINT  REFERENCES users (id) ON DELETE CASCADE,       -- NULL: the command line
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ,
    last_used_at   TIMESTAMPTZ,
    revoked_at     TIMESTAMPTZ
);

-- Idempotency keys, per token: the first response is stored and replayed.
CREATE TABLE api_idempotency (
    token_id       BIGINT  NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    key            TEXT    NOT NULL,
    fingerprint    TEXT    NOT NULL,                     -- SHA-256 of method, path and body
    state          TEXT    NOT NULL CHECK (state IN ('in_flight', 'done')),
    locked_until   TIMESTAMPTZ NOT NULL,                     -- an in-flight claim older than this is a dead request
    response_status BIGINT,
    response_type  TEXT,
    response_body  TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (token_id, key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);
