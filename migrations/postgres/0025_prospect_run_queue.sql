-- Resolver runs become queued jobs (issue 15): a run is 'queued' until a worker takes it, and
-- shows its phase and progress while it works. One run at a time (the partial unique index is the
-- claim); a lease the worker renews lets a later request tell a dead run from a slow one.
-- Each run writes its masters into staging rows in small transactions (progress a page can see),
-- then swaps them in with set-based statements in one transaction.
ALTER TABLE prospect_runs DROP CONSTRAINT prospect_runs_status_check;
ALTER TABLE prospect_runs ADD CONSTRAINT prospect_runs_status_check CHECK (status IN ('queued', 'running', 'succeeded', 'failed'));
ALTER TABLE prospect_runs ADD COLUMN phase TEXT;
ALTER TABLE prospect_runs ADD COLUMN done BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prospect_runs ADD COLUMN total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prospect_runs ADD COLUMN lease_until TIMESTAMPTZ;
ALTER TABLE prospect_runs ADD COLUMN requested_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX prospect_runs_one_active ON prospect_runs ((status IN ('queued', 'running'))) WHERE status IN ('queued', 'running');

CREATE UNLOGGED TABLE prospect_run_masters (
    run_id            BIGINT  NOT NULL REFERENCES prospect_runs (id) ON DELETE CASCADE,
    anchor_person_id  BIGINT  NOT NULL,
    full_name         TEXT    NOT NULL,
    emails            TEXT    NOT NULL,
    phones            TEXT    NOT NULL,
    team_id           TEXT,
    persons           BIGINT  NOT NULL,
    confidence        BIGINT  NOT NULL,
    needs_review      BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, anchor_person_id)
);

CREATE UNLOGGED TABLE prospect_run_members (
    run_id            BIGINT NOT NULL REFERENCES prospect_runs (id) ON DELETE CASCADE,
    person_id         BIGINT NOT NULL,
    anchor_person_id  BIGINT NOT NULL,
    PRIMARY KEY (run_id, person_id)
);
