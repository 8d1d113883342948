-- Email Bison syncs of a workspace: queued by "Sync now" or a schedule, with progress and a
-- result summary (or the error, which is also the workspace's integration status).
CREATE TABLE sync_runs (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('all', 'senders')),
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    step            BIGINT  NOT NULL DEFAULT 0,
    steps           BIGINT  NOT NULL DEFAULT 0,
    step_label      TEXT,
    summary         TEXT,                         -- JSON
    error           TEXT,
    requested_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      TEXT    NOT NULL,
    started_at      TEXT,
    finished_at     TEXT
);
CREATE INDEX sync_runs_ws ON sync_runs (workspace_id, id);
