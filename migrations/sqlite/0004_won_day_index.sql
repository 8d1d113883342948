-- Won-deal value per month (revenue and ROI dashboards) ranges over won_day across workspaces.
CREATE INDEX leads_won_day ON leads (won_day, workspace_id);
