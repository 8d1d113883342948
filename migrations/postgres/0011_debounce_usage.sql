-- Debounce credits used per month and workspace (the seeds' debounce_usage): one credit per
-- address checked.
CREATE TABLE debounce_usage (
    month           TEXT    NOT NULL,             -- YYYY-MM (UTC)
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    credits_used    BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (month, workspace_id)
);

-- Verification runs of a workspace ("Verify now"), with their summary or error.
CREATE TABLE verification_runs (
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    queued_at       TIMESTAMPTZ NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    summary         TEXT,                         -- JSON
    error           TEXT,
    finished_at     TIMESTAMPTZ,
    PRIMARY KEY (workspace_id, queued_at)
);
