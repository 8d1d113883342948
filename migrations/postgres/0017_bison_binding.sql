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
UPDATE leads SET bison_campaign_id = (SELECT c.bison_campaign_id FROM campaigns c WHERE c.id = leads.campaign_id)
WHERE campaign_id IS NOT NULL AND bison_campaign_id IS NULL;

-- The placeholders the old code invented for such replies ("Campaign 99999": the name made from
-- the id, no counts, never chosen for batches) go; their leads keep the Email Bison id above and
-- are linked again if a sync finds the campaign.
UPDATE leads SET campaign_id = NULL WHERE campaign_id IN (
    SELECT id FROM campaigns WHERE name = 'Campaign ' || bison_campaign_id AND leads_total = 0 AND leads_contacted = 0
      AND id NOT IN (SELECT batch_campaign_id FROM workspaces WHERE batch_campaign_id IS NOT NULL));
DELETE FROM campaigns WHERE name = 'Campaign ' || bison_campaign_id AND leads_total = 0 AND leads_contacted = 0
  AND id NOT IN (SELECT batch_campaign_id FROM workspaces WHERE batch_campaign_id IS NOT NULL);
