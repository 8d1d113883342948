-- Issue 18: an AI call's cost may be unknown (the answer carried none and no price list was
-- readable). Unknown is NULL, never 0, which reads as free.
ALTER TABLE personalization_calls ALTER COLUMN cost_usd DROP NOT NULL;
ALTER TABLE personalization_calls ALTER COLUMN cost_usd DROP DEFAULT;

-- Before this, a 0 for an answered call (or one that got no answer) meant "not told": unknown.
-- A refused request (an HTTP error status) ran no model and stays 0.
UPDATE personalization_calls SET cost_usd = NULL
    WHERE cost_usd = 0 AND (http_status IS NULL OR (http_status >= 200 AND http_status < 300));

-- A lead's cost_usd sums its calls' known costs; this counts the calls of unknown cost.
ALTER TABLE personalization_leads ADD COLUMN unknown_cost_calls BIGINT NOT NULL DEFAULT 0;
UPDATE personalization_leads SET unknown_cost_calls =
    (SELECT COUNT(*) FROM personalization_calls c WHERE c.lead_id = personalization_leads.id AND c.cost_usd IS NULL);
