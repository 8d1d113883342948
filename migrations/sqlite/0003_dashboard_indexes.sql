-- Dashboards scan by day across all workspaces (KPI, trends, alerts): lead with the day.
CREATE INDEX leads_interested_day ON leads (interested_day, workspace_id);
CREATE INDEX daily_metrics_day ON daily_metrics (day, workspace_id);
