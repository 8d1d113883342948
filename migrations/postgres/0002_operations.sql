-- Operational data of each workspace (PostgreSQL dialect). Keep in step with
-- migrations/sqlite/0002_operations.sql. Days are agency-local calendar days ('YYYY-MM-DD').

CREATE TABLE campaigns (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id        BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    bison_campaign_id   TEXT,
    name                TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('draft', 'active', 'paused', 'completed', 'archived')),
    leads_total         BIGINT  NOT NULL DEFAULT 0,
    leads_contacted     BIGINT  NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ    NOT NULL,
    updated_at          TIMESTAMPTZ    NOT NULL,
    UNIQUE (workspace_id, bison_campaign_id)
);
CREATE INDEX campaigns_ws ON campaigns (workspace_id, status);

CREATE TABLE leads (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id        BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    campaign_id         BIGINT  REFERENCES campaigns (id) ON DELETE SET NULL,
    bison_lead_id       TEXT,
    email               TEXT    NOT NULL,              -- lower-cased
    first_name          TEXT,
    last_name           TEXT,
    company             TEXT,
    title               TEXT,
    phone               TEXT,
    city                TEXT,
    state               TEXT,
    zip                 TEXT,
    reply_text          TEXT,
    received_at         TIMESTAMPTZ,                          -- when the interested reply arrived
    interested          BOOLEAN NOT NULL DEFAULT FALSE,
    interested_day      DATE,                          -- agency day it was marked interested
    stage               TEXT    NOT NULL DEFAULT 'new' CHECK (stage IN ('new', 'contacted', 'follow_up', 'meeting_booked', 'quote_sent', 'won', 'lost')),
    stage_changed_at    TIMESTAMPTZ,
    deal_value_cents    BIGINT  CHECK (deal_value_cents IS NULL OR deal_value_cents >= 0),
    won_day             DATE,
    lost_reason         TEXT,
    invalid             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TIMESTAMPTZ    NOT NULL,
    updated_at          TIMESTAMPTZ    NOT NULL,
    UNIQUE (workspace_id, email)
);
CREATE INDEX leads_ws_interested ON leads (workspace_id, interested_day);
CREATE INDEX leads_ws_stage ON leads (workspace_id, stage);

CREATE TABLE lead_stage_history (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id             BIGINT  NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    workspace_id        BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    from_stage          TEXT,
    to_stage            TEXT    NOT NULL,
    actor_user_id       BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    note                TEXT,
    at                  TIMESTAMPTZ    NOT NULL
);
CREATE INDEX lead_stage_history_lead ON lead_stage_history (lead_id, at);

CREATE TABLE sender_accounts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id        BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    bison_sender_id     TEXT,
    email               TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'connected' CHECK (status IN ('connected', 'disconnected', 'paused')),
    daily_limit         BIGINT  NOT NULL DEFAULT 0 CHECK (daily_limit >= 0),
    warmup_enabled      BOOLEAN NOT NULL DEFAULT FALSE,
    sent_total          BIGINT  NOT NULL DEFAULT 0,
    bounced_total       BIGINT  NOT NULL DEFAULT 0,
    replies_total       BIGINT  NOT NULL DEFAULT 0,
    last_synced_at      TIMESTAMPTZ,
    created_at          TIMESTAMPTZ    NOT NULL,
    UNIQUE (workspace_id, email)
);

-- One row per workspace and agency day (filled by the Email Bison sync).
CREATE TABLE daily_metrics (
    workspace_id        BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    day                 DATE    NOT NULL,
    sent                BIGINT  NOT NULL DEFAULT 0,
    contacted           BIGINT  NOT NULL DEFAULT 0,
    replies             BIGINT  NOT NULL DEFAULT 0,
    interested          BIGINT  NOT NULL DEFAULT 0,
    bounced             BIGINT  NOT NULL DEFAULT 0,
    unsubscribed        BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day)
);

CREATE TABLE sender_daily_metrics (
    sender_id           BIGINT  NOT NULL REFERENCES sender_accounts (id) ON DELETE CASCADE,
    day                 DATE    NOT NULL,
    sent                BIGINT  NOT NULL DEFAULT 0,
    replies             BIGINT  NOT NULL DEFAULT 0,
    bounced             BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (sender_id, day)
);

CREATE TABLE client_costs (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id        BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    category            TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    amount_cents        BIGINT  NOT NULL CHECK (amount_cents >= 0),
    recurrence          TEXT    NOT NULL CHECK (recurrence IN ('monthly', 'one_off')),
    starts_on           DATE    NOT NULL,              -- one-off: the day it was incurred
    ends_on             DATE,                          -- monthly: last day it applies (NULL = ongoing)
    created_at          TIMESTAMPTZ    NOT NULL
);
CREATE INDEX client_costs_ws ON client_costs (workspace_id, starts_on);

CREATE TABLE client_zip_codes (
    workspace_id        BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    zip                 TEXT    NOT NULL,
    state               TEXT,
    city                TEXT,
    assigned_at         TIMESTAMPTZ    NOT NULL,
    PRIMARY KEY (workspace_id, zip)
);
CREATE INDEX client_zip_codes_zip ON client_zip_codes (zip);

-- Closed months are frozen here so a later price change does not rewrite history.
CREATE TABLE monthly_revenue_snapshots (
    workspace_id        BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    month               TEXT    NOT NULL,              -- 'YYYY-MM'
    pricing_model       TEXT    NOT NULL,
    billable_leads      BIGINT  NOT NULL,
    price_per_lead_cents BIGINT NOT NULL,
    retainer_fee_cents  BIGINT  NOT NULL,
    revenue_cents       BIGINT  NOT NULL,
    costs_cents         BIGINT  NOT NULL,
    won_value_cents     BIGINT  NOT NULL DEFAULT 0,
    frozen_at           TIMESTAMPTZ    NOT NULL,
    PRIMARY KEY (workspace_id, month)
);

CREATE TABLE rollout_steps (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id        BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    step_key            TEXT    NOT NULL,
    label               TEXT    NOT NULL,
    position            BIGINT  NOT NULL,
    due_on              DATE,
    completed_on        DATE,
    UNIQUE (workspace_id, step_key)
);
