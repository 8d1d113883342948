-- Revenue, KPI and the daily billable chart count valid interested leads per day across
-- workspaces. With `invalid` in the index those counts never touch the table rows (SQLite reads
-- the index only; PostgreSQL can use an index-only scan): revenue p95 108 → see docs/performance.md.
DROP INDEX leads_interested_day;
CREATE INDEX leads_interested_day ON leads (interested_day, workspace_id, invalid);
