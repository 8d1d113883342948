-- Browser automations (issue 14): sign-ins for the outside sites, each workspace's automation
-- settings, and the runs of PT1–PT5 with their steps and log (the seeds' agent_runs/agent_errors).

-- One sign-in per site and region (Cole X Dates sells data per state: NJ, TX…; Clay has one, region '').
-- The password is sealed with the secret key (platform::crypto); the browser never sees it in clear.
CREATE TABLE site_credentials (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site            TEXT    NOT NULL CHECK (site IN ('cole', 'clay')),
    region          TEXT    NOT NULL DEFAULT '',
    username        TEXT    NOT NULL,
    sealed_password TEXT    NOT NULL,
    updated_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (site, region)
);

CREATE TABLE automation_settings (
    workspace_id      BIGINT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    enabled           BOOLEAN NOT NULL DEFAULT FALSE,
    -- The admin whose rights imports run with (the last to save these settings).
    run_as            BIGINT REFERENCES users (id) ON DELETE SET NULL,
    cole_state        TEXT    NOT NULL DEFAULT '',
    pull_cron         TEXT    NOT NULL DEFAULT '0 0 6 15 * *',
    upload_cron       TEXT    NOT NULL DEFAULT '0 0 9 * * Fri',
    lookback_days     BIGINT  NOT NULL DEFAULT 30 CHECK (lookback_days BETWEEN 1 AND 365),
    supplemental_max  BIGINT  NOT NULL DEFAULT 1 CHECK (supplemental_max BETWEEN 0 AND 3),
    clay_table        TEXT    NOT NULL DEFAULT '',
    rename_pattern    TEXT    NOT NULL DEFAULT '{client} – {yyyy-mm} – wk{n}',
    step_timeout_secs BIGINT  NOT NULL DEFAULT 300 CHECK (step_timeout_secs BETWEEN 5 AND 7200),
    updated_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE automation_runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    first_step    TEXT    NOT NULL CHECK (first_step IN ('pt1_pull', 'pt2_clean', 'pt3_gap', 'pt4_upload', 'pt5_rotate')),
    last_step     TEXT    NOT NULL CHECK (last_step IN ('pt1_pull', 'pt2_clean', 'pt3_gap', 'pt4_upload', 'pt5_rotate')),
    dry_run       BOOLEAN NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'interrupted')),
    trigger       TEXT    NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    requested_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- A schedule's occurrence: N processes ticking make one run.
    schedule_key  TEXT    UNIQUE,
    current_step  TEXT,
    error         TEXT,
    lease_owner   TEXT,
    lease_until   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ
);
-- One run at a time per workspace, claimed by the database (compare-and-set), not by a check.
CREATE UNIQUE INDEX automation_runs_one_active ON automation_runs (workspace_id) WHERE status IN ('queued', 'running');
CREATE INDEX automation_runs_recent ON automation_runs (created_at);

CREATE TABLE automation_steps (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          BIGINT NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
    step            TEXT    NOT NULL CHECK (step IN ('pt1_pull', 'pt2_clean', 'pt3_gap', 'pt4_upload', 'pt5_rotate')),
    attempt         BIGINT  NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    records_in      BIGINT,
    records_out     BIGINT,
    -- What the step hands to the next one (JSON).
    output          TEXT,
    error           TEXT,
    -- Where a browser step failed: the action, the page's address, and files under the data folder.
    failed_action   TEXT,
    page_url        TEXT,
    html_path       TEXT,
    screenshot_path TEXT,
    UNIQUE (run_id, step, attempt)
);

CREATE TABLE automation_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id  BIGINT NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
    at      TIMESTAMPTZ NOT NULL,
    level   TEXT    NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message TEXT    NOT NULL
);
CREATE INDEX automation_log_run ON automation_log (run_id, id);
