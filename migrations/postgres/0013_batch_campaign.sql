-- The campaign a workspace's weekly batches go to. NULL: its first active Email Bison campaign.
ALTER TABLE workspaces ADD COLUMN batch_campaign_id BIGINT REFERENCES campaigns (id) ON DELETE SET NULL;
