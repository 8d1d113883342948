-- Debounce credits used per month and workspace (the seeds' debounce_usage): one credit per
-- address checked.
CREATE TABLE debounce_usage (
    month           TEXT    NOT NULL,             -- YYYY-MM (UTC)
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    credits_used    BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (month, workspace_id)
);
