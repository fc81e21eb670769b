-- Broadcasts (issue 26): an operator's announcement or offer to a segment. It is stored in each
-- target's inbox and queued in the outbox in one statement, each target's push due at its own
-- moment (n ÷ BROADCAST_PER_SECOND after the send), low priority: rings, high priority, are
-- claimed first whatever waits.
CREATE TABLE broadcasts (
    id          uuid PRIMARY KEY,
    admin_id    uuid NOT NULL REFERENCES admins (id),
    title       text NOT NULL,
    body        text NOT NULL,
    category    text NOT NULL CHECK (category IN ('announcements', 'offers')),
    audience    jsonb NOT NULL,
    targeted    integer NOT NULL,
    per_second  integer NOT NULL CHECK (per_second > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE push_outbox
    DROP CONSTRAINT push_outbox_kind_check,
    ADD CONSTRAINT push_outbox_kind_check
        CHECK (kind IN ('MISSED_CALL', 'INCOMING_CALL', 'CALL_CANCELLED', 'ONLINE_ALERT', 'BROADCAST')),
    ADD COLUMN broadcast_id uuid REFERENCES broadcasts (id);
ALTER TABLE notifications ADD COLUMN broadcast_id uuid REFERENCES broadcasts (id);

-- A broadcast's figures: sent and failed pushes, opened (read) inbox entries.
CREATE INDEX push_outbox_broadcast_idx ON push_outbox (broadcast_id) WHERE broadcast_id IS NOT NULL;
CREATE INDEX notifications_broadcast_idx ON notifications (broadcast_id) WHERE broadcast_id IS NOT NULL;
