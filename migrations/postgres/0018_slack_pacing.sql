-- Slack pacing (issue 18): Slack accepts about one message per second per incoming webhook and
-- answers 429 with Retry-After beyond that. Each channel ("hook": 0 is the agency's, otherwise the
-- workspace id) gets a row saying when its next message may be posted; senders claim a hook by
-- moving `next_post_at` forward only if it is due (compare-and-set), so pacing holds across
-- processes sharing the database.
CREATE TABLE slack_hooks (
    hook         BIGINT      PRIMARY KEY,
    next_post_at TIMESTAMPTZ NOT NULL
);
-- When a message was given up (the admin's failed-messages list shows it).
ALTER TABLE slack_messages ADD COLUMN failed_at TIMESTAMPTZ;
UPDATE slack_messages SET failed_at = next_attempt_at WHERE status = 'failed';
-- Messages are no longer claimed one by one (the hook is): one left mid-post goes back.
UPDATE slack_messages SET status = 'pending' WHERE status = 'sending';
CREATE INDEX slack_messages_failed ON slack_messages (failed_at) WHERE status = 'failed';
