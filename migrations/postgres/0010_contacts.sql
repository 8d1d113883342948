-- The contact pipeline: uploaded contact lists (staged, mapped, imported) and the contacts they
-- bring, per workspace. Keep in step with the SQLite file.
CREATE TABLE contact_uploads (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_by      BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    file_name       TEXT    NOT NULL,
    bytes           BIGINT  NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL CHECK (status IN ('mapping', 'imported', 'failed')),
    staged_path     TEXT,                     -- the uploaded file, until it is imported
    headers         TEXT,                     -- JSON array
    preview         TEXT,                     -- JSON: the first rows
    mapping         TEXT,                     -- JSON: field → column index
    rows_total      BIGINT  NOT NULL DEFAULT 0,
    created         BIGINT  NOT NULL DEFAULT 0,
    duplicates      BIGINT  NOT NULL DEFAULT 0,
    rejected        BIGINT  NOT NULL DEFAULT 0,
    failure         TEXT,
    rejected_path   TEXT,                     -- CSV of the rejected rows with their reasons
    finished_at     TIMESTAMPTZ
);
CREATE INDEX contact_uploads_ws ON contact_uploads (workspace_id, id);

CREATE TABLE contacts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    upload_id       BIGINT  REFERENCES contact_uploads (id) ON DELETE SET NULL,
    email           TEXT    NOT NULL,         -- lower-cased
    first_name      TEXT,
    last_name       TEXT,
    company         TEXT,
    title           TEXT,
    phone           TEXT,
    city            TEXT,
    state           TEXT,
    zip             TEXT,
    verification    TEXT    NOT NULL DEFAULT 'unverified' CHECK (verification IN ('unverified', 'safe', 'risky', 'invalid', 'unknown')),
    verified_at     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, email)
);
CREATE INDEX contacts_ws_verification ON contacts (workspace_id, verification);
