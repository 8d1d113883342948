-- Work that must happen once is claimed by compare-and-set (issue 11).

-- At most one verification run per workspace is queued or running: "Verify now" clicked twice
-- must not pay DeBounce twice. Older duplicates (from before this rule) are closed first.
UPDATE verification_runs SET status = 'failed', error = 'Superseded by a later run.'
WHERE status IN ('queued', 'running')
  AND queued_at < (SELECT MAX(v2.queued_at) FROM verification_runs v2
                   WHERE v2.workspace_id = verification_runs.workspace_id AND v2.status IN ('queued', 'running'));
CREATE UNIQUE INDEX verification_runs_one_active ON verification_runs (workspace_id) WHERE status IN ('queued', 'running');

-- An import (of a staged contacts upload) and a batch upload to Email Bison are taken by one
-- worker: the claim is the moment it was taken (a claim that old is a worker that died).
ALTER TABLE contact_uploads ADD COLUMN claimed_at TEXT;
ALTER TABLE contact_batches ADD COLUMN claimed_at TEXT;
