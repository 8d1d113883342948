-- The DeBounce credit balance as last reported (every verify answer carries it; GET /v1/balance
-- reads it). The balance belongs to the API key, not to a workspace, so it is filed under the
-- key's SHA-256: a new key starts with an unknown balance. Only a newer reading replaces it.
CREATE TABLE debounce_balance (
    key_hash    TEXT    PRIMARY KEY,
    balance     BIGINT  NOT NULL,
    read_at     TEXT    NOT NULL
);
