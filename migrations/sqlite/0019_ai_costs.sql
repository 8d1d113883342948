-- Issue 18: an AI call's cost may be unknown (the answer carried none and no price list was
-- readable). Unknown is NULL, never 0, which reads as free.

-- SQLite cannot drop a NOT NULL: the table is rebuilt (nothing refers to it).
CREATE TABLE personalization_calls_new (
    id              INTEGER PRIMARY KEY,
    lead_id         BIGINT  NOT NULL REFERENCES personalization_leads (id) ON DELETE CASCADE,
    at              TEXT        NOT NULL,          -- when this attempt was sent
    provider        TEXT    NOT NULL,             -- perplexity | openrouter
    model           TEXT    NOT NULL,
    attempt         BIGINT  NOT NULL,
    request         TEXT    NOT NULL,             -- JSON sent
    response        TEXT,                         -- body received (truncated to 64 KB)
    http_status     BIGINT,
    error           TEXT,
    prompt_tokens   BIGINT  NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd        DOUBLE PRECISION,             -- USD; NULL: unknown
    latency_ms      BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO personalization_calls_new (id, lead_id, at, provider, model, attempt, request, response, http_status, error, prompt_tokens, completion_tokens, cost_usd, latency_ms)
    SELECT id, lead_id, at, provider, model, attempt, request, response, http_status, error, prompt_tokens, completion_tokens, cost_usd, latency_ms
    FROM personalization_calls;
DROP TABLE personalization_calls;
ALTER TABLE personalization_calls_new RENAME TO personalization_calls;
CREATE INDEX personalization_calls_lead ON personalization_calls (lead_id);

-- Before this, a 0 for an answered call (or one that got no answer) meant "not told": unknown.
-- A refused request (an HTTP error status) ran no model and stays 0.
UPDATE personalization_calls SET cost_usd = NULL
    WHERE cost_usd = 0 AND (http_status IS NULL OR (http_status >= 200 AND http_status < 300));

-- A lead's cost_usd sums its calls' known costs; this counts the calls of unknown cost.
ALTER TABLE personalization_leads ADD COLUMN unknown_cost_calls BIGINT NOT NULL DEFAULT 0;
UPDATE personalization_leads SET unknown_cost_calls =
    (SELECT COUNT(*) FROM personalization_calls c WHERE c.lead_id = personalization_leads.id AND c.cost_usd IS NULL);
