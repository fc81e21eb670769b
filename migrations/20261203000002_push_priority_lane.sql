-- The outbox's priority lane: rings and their cancels (high_priority) are claimed before any
-- backlog of other notifications, in the order they became due.
DROP INDEX push_outbox_due_idx;
CREATE INDEX push_outbox_due_idx ON push_outbox (high_priority DESC, next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
