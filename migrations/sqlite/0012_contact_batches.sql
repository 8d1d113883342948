-- Weekly batches of verified contacts, uploaded to the workspace's Email Bison campaign; every
-- call to Email Bison is in upload_audit_log. A failed upload resumes without duplicating leads
-- (contacts remember their Bison lead id).
CREATE TABLE contact_batches (
    id              INTEGER PRIMARY KEY,
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    week_of         TEXT    NOT NULL,             -- the Monday of the batch's week
    size            BIGINT  NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('draft', 'uploading', 'uploaded', 'failed')),
    uploaded        BIGINT  NOT NULL DEFAULT 0,
    error           TEXT,
    created_at      TEXT    NOT NULL,
    finished_at     TEXT,
    UNIQUE (workspace_id, week_of)
);
ALTER TABLE contacts ADD COLUMN batch_id BIGINT REFERENCES contact_batches (id) ON DELETE SET NULL;
ALTER TABLE contacts ADD COLUMN bison_lead_id TEXT;
CREATE INDEX contacts_batch ON contacts (batch_id);
ALTER TABLE workspaces ADD COLUMN accept_risky BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE upload_audit_log (
    id              INTEGER PRIMARY KEY,
    batch_id        BIGINT  NOT NULL REFERENCES contact_batches (id) ON DELETE CASCADE,
    at              TEXT    NOT NULL,
    call            TEXT    NOT NULL,             -- e.g. POST /api/leads/multiple
    leads           BIGINT  NOT NULL DEFAULT 0,
    ok              BOOLEAN NOT NULL,
    detail          TEXT
);
