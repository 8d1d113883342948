-- Issue 18: what Email Bison really accepts and which workspace a key really reads.

-- The Bison workspace a saved key was verified to read (GET /api/users when it was saved), and
-- who it belongs to: shown on the client's page; every sync re-checks it before importing.
ALTER TABLE workspaces ADD COLUMN bison_key_workspace_name TEXT;
ALTER TABLE workspaces ADD COLUMN bison_key_user TEXT;
ALTER TABLE workspaces ADD COLUMN bison_verified_at TIMESTAMPTZ;

-- A contact Email Bison can't take (no first or last name, an address it refuses): why, by
-- contact, so one bad row never fails a whole weekly batch and the page can say which.
ALTER TABLE contacts ADD COLUMN bison_skip_reason TEXT;
ALTER TABLE contact_batches ADD COLUMN skipped BIGINT NOT NULL DEFAULT 0;

-- What an import let in but warns about (rows Email Bison will refuse), with their lines.
ALTER TABLE contact_uploads ADD COLUMN warnings TEXT;

-- The Email Bison campaign an interested reply came from, kept even while that campaign is not
-- known here: the lead is linked once a sync brings the campaign (no invented placeholders).
ALTER TABLE leads ADD COLUMN bison_campaign_id TEXT;
