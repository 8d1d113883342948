-- The client portal: notes on leads, and the event log that drives live boards (and, later, the
-- event bus). Keep in step with migrations/sqlite/0007_portal.sql.
CREATE TABLE lead_notes (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id         BIGINT      NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    workspace_id    BIGINT      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    author_user_id  BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    author_name     TEXT        NOT NULL,        -- kept when the user goes away
    body            TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX lead_notes_lead ON lead_notes (lead_id, created_at);

-- Append-only: what happened in a workspace (a lead arrived, moved, was annotated). Every web
-- host tails it and pushes new rows to the open boards of that workspace; a reconnecting browser
-- resumes from the last id it saw. Pruned nightly.
CREATE TABLE workspace_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind            TEXT        NOT NULL,
    lead_id         BIGINT,
    actor_user_id   BIGINT,
    payload         TEXT        NOT NULL,        -- JSON
    at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX workspace_events_ws ON workspace_events (workspace_id, id);

-- The board lists a stage's leads newest first.
CREATE INDEX leads_board ON leads (workspace_id, stage, received_at);
