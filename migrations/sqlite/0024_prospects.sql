-- Prospect lists (issue 15): the seed's layers. Raw rows as received (JSON) with a record hash so
-- a reloaded file adds nothing; rejected rows with their reason; one normalised row per person;
-- masters (one per real person) with the union of emails and phones; review pairs and every
-- decision on them; a merge log per resolver run with its JSON report.
CREATE TABLE prospect_raw (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('company', 'agents')),
    record_hash  TEXT    NOT NULL UNIQUE,
    source_file  TEXT    NOT NULL,
    line         INTEGER NOT NULL,
    data         TEXT    NOT NULL,
    loaded_at    TEXT    NOT NULL
);

CREATE TABLE prospect_rejects (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('company', 'agents')),
    source_file  TEXT    NOT NULL,
    line         INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    data         TEXT    NOT NULL,
    rejected_at  TEXT    NOT NULL
);

-- anchor_person_id: the master's first person; a re-run finds the same master by it.
CREATE TABLE prospect_masters (
    id                INTEGER PRIMARY KEY,
    anchor_person_id  INTEGER NOT NULL UNIQUE,
    full_name         TEXT    NOT NULL,
    emails            TEXT    NOT NULL,
    phones            TEXT    NOT NULL,
    team_id           TEXT,
    persons           INTEGER NOT NULL,
    confidence        INTEGER NOT NULL,
    needs_review      BOOLEAN NOT NULL,
    updated_at        TEXT    NOT NULL
);

CREATE TABLE prospect_persons (
    id            INTEGER PRIMARY KEY,
    raw_id        INTEGER NOT NULL REFERENCES prospect_raw (id) ON DELETE CASCADE,
    member_index  INTEGER NOT NULL,
    full_name     TEXT    NOT NULL,
    first_name    TEXT    NOT NULL,
    last_name     TEXT    NOT NULL,
    emails        TEXT    NOT NULL,
    phones        TEXT    NOT NULL,
    team_id       TEXT,
    master_id     INTEGER REFERENCES prospect_masters (id) ON DELETE SET NULL,
    UNIQUE (raw_id, member_index)
);
CREATE INDEX prospect_persons_master ON prospect_persons (master_id);

CREATE TABLE prospect_review_pairs (
    id          INTEGER PRIMARY KEY,
    person_a    INTEGER NOT NULL REFERENCES prospect_persons (id) ON DELETE CASCADE,
    person_b    INTEGER NOT NULL REFERENCES prospect_persons (id) ON DELETE CASCADE,
    rule        TEXT    NOT NULL CHECK (rule IN ('email', 'phone', 'name_team', 'shared_contact', 'fuzzy_name')),
    confidence  INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('open', 'approved', 'rejected')),
    created_at  TEXT    NOT NULL,
    decided_at  TEXT,
    decided_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    UNIQUE (person_a, person_b)
);
CREATE INDEX prospect_review_pairs_status ON prospect_review_pairs (status, confidence);

CREATE TABLE prospect_decisions (
    id          INTEGER PRIMARY KEY,
    action      TEXT    NOT NULL CHECK (action IN ('approve', 'reject', 'split')),
    person_a    INTEGER REFERENCES prospect_persons (id) ON DELETE CASCADE,
    person_b    INTEGER REFERENCES prospect_persons (id) ON DELETE CASCADE,
    master_id   INTEGER,
    decided_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decided_at  TEXT    NOT NULL
);

CREATE TABLE prospect_runs (
    id           INTEGER PRIMARY KEY,
    started_at   TEXT    NOT NULL,
    finished_at  TEXT,
    processed    INTEGER NOT NULL DEFAULT 0,
    merged       INTEGER NOT NULL DEFAULT 0,
    flagged      INTEGER NOT NULL DEFAULT 0,
    status       TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error        TEXT,
    report       TEXT
);
