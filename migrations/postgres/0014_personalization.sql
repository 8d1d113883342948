-- AI personalization (seed 004): a campaign holds leads from uploaded CSVs; a run extracts one
-- file's leads, then researches each company (Perplexity) and writes a first line (Claude via
-- OpenRouter), or composes one from the row alone with the built-in template writer.
CREATE TABLE personalization_campaigns (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    offer           TEXT    NOT NULL DEFAULT '',  -- what the client sells: context for the writer
    example_line    TEXT    NOT NULL DEFAULT '',  -- a first line in the voice wanted
    created_by      BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at      TIMESTAMPTZ     NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE personalization_runs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     BIGINT  NOT NULL REFERENCES personalization_campaigns (id) ON DELETE CASCADE,
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_by      BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at      TIMESTAMPTZ     NOT NULL,
    file_name       TEXT    NOT NULL,
    writer          TEXT    NOT NULL CHECK (writer IN ('ai', 'template')),
    status          TEXT    NOT NULL CHECK (status IN ('extracting', 'personalizing', 'completed', 'failed', 'cancelled')),
    headers         TEXT,                         -- JSON: the file's column names, in order
    staged_path     TEXT,                         -- the upload, until its leads are extracted
    rejected_path   TEXT,                         -- rejected rows with reasons (CSV)
    rows_total      BIGINT  NOT NULL DEFAULT 0,   -- data rows in the file
    rejected        BIGINT  NOT NULL DEFAULT 0,   -- invalid rows and repeats within the file
    skipped         BIGINT  NOT NULL DEFAULT 0,   -- already personalized in this campaign
    total           BIGINT  NOT NULL DEFAULT 0,   -- leads this run personalizes
    done            BIGINT  NOT NULL DEFAULT 0,
    failed          BIGINT  NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    lease_owner     TEXT,                         -- the worker running it, until lease_until
    lease_until     TIMESTAMPTZ,
    error           TEXT,
    finished_at     TIMESTAMPTZ
);
CREATE INDEX personalization_runs_campaign ON personalization_runs (campaign_id, id);
CREATE INDEX personalization_runs_active ON personalization_runs (status, lease_until);

CREATE TABLE personalization_leads (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     BIGINT  NOT NULL REFERENCES personalization_campaigns (id) ON DELETE CASCADE,
    run_id          BIGINT  NOT NULL REFERENCES personalization_runs (id) ON DELETE CASCADE,
    line_no         BIGINT  NOT NULL,             -- where the row is in the uploaded file
    email           TEXT    NOT NULL,             -- lower case: the dedupe key
    company         TEXT    NOT NULL,
    fields          TEXT    NOT NULL,             -- JSON: canonical column name → value
    original        TEXT    NOT NULL,             -- JSON: the row's cells as uploaded
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    writer          TEXT,                         -- ai | template: who wrote the line
    research        TEXT,
    line            TEXT,
    edited_by       BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    error           TEXT,
    prompt_tokens   BIGINT  NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd        DOUBLE PRECISION NOT NULL DEFAULT 0,
    finished_at     TIMESTAMPTZ,
    UNIQUE (campaign_id, email)
);
CREATE INDEX personalization_leads_run ON personalization_leads (run_id, status, id);

-- Every call to Perplexity or OpenRouter for a lead: the prompt, the answer, tokens and cost.
CREATE TABLE personalization_calls (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id         BIGINT  NOT NULL REFERENCES personalization_leads (id) ON DELETE CASCADE,
    at              TIMESTAMPTZ     NOT NULL,
    provider        TEXT    NOT NULL,             -- perplexity | openrouter
    model           TEXT    NOT NULL,
    attempt         BIGINT  NOT NULL,
    request         TEXT    NOT NULL,             -- JSON sent
    response        TEXT,                         -- body received (truncated to 64 KB)
    http_status     BIGINT,
    error           TEXT,
    prompt_tokens   BIGINT  NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd        DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_ms      BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX personalization_calls_lead ON personalization_calls (lead_id);

-- Whether the workspace's client users may run personalization campaigns themselves.
ALTER TABLE workspaces ADD COLUMN personalization_for_clients BOOLEAN NOT NULL DEFAULT FALSE;
