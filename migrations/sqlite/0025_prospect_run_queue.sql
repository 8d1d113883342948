-- Resolver runs become queued jobs (issue 15): a run is 'queued' until a worker takes it, and
-- shows its phase and progress while it works. One run at a time (the partial unique index is the
-- claim); a lease the worker renews lets a later request tell a dead run from a slow one.
-- Each run writes its masters into staging rows in small transactions (progress a page can see),
-- then swaps them in with set-based statements in one transaction.
CREATE TABLE prospect_runs_new (
    id            INTEGER PRIMARY KEY,
    started_at    TEXT    NOT NULL,
    finished_at   TEXT,
    processed     INTEGER NOT NULL DEFAULT 0,
    merged        INTEGER NOT NULL DEFAULT 0,
    flagged       INTEGER NOT NULL DEFAULT 0,
    status        TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    error         TEXT,
    report        TEXT,
    phase         TEXT,
    done          INTEGER NOT NULL DEFAULT 0,
    total         INTEGER NOT NULL DEFAULT 0,
    lease_until   TEXT,
    requested_by  INTEGER REFERENCES users (id) ON DELETE SET NULL
);
INSERT INTO prospect_runs_new (id, started_at, finished_at, processed, merged, flagged, status, error, report)
    SELECT id, started_at, finished_at, processed, merged, flagged, status, error, report FROM prospect_runs;
DROP TABLE prospect_runs;
ALTER TABLE prospect_runs_new RENAME TO prospect_runs;
CREATE UNIQUE INDEX prospect_runs_one_active ON prospect_runs ((status IN ('queued', 'running'))) WHERE status IN ('queued', 'running');

CREATE TABLE prospect_run_masters (
    run_id            INTEGER NOT NULL REFERENCES prospect_runs (id) ON DELETE CASCADE,
    anchor_person_id  INTEGER NOT NULL,
    full_name         TEXT    NOT NULL,
    emails            TEXT    NOT NULL,
    phones            TEXT    NOT NULL,
    team_id           TEXT,
    persons           INTEGER NOT NULL,
    confidence        INTEGER NOT NULL,
    needs_review      BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, anchor_person_id)
);

CREATE TABLE prospect_run_members (
    run_id            INTEGER NOT NULL REFERENCES prospect_runs (id) ON DELETE CASCADE,
    person_id         INTEGER NOT NULL,
    anchor_person_id  INTEGER NOT NULL,
    PRIMARY KEY (run_id, person_id)
);
