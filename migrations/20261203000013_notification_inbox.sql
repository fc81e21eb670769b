-- A notification inbox and preferences (issue 26): every push but rings and their cancels is
-- also stored once per account (not per device), in the same statement that queues it, unless
-- its category is muted; the retention sweep deletes what is older than
-- NOTIFICATION_RETENTION_DAYS. Muted categories are neither pushed nor stored.
CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id),
    category    text NOT NULL CHECK (category IN ('missed_calls', 'online_alerts', 'wallet', 'announcements', 'offers')),
    kind        text NOT NULL,
    title       text,
    body        text,
    data        jsonb NOT NULL DEFAULT '{}',
    read_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Her inbox, newest first; her unread count; the retention sweep.
CREATE INDEX notifications_account_idx ON notifications (account_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (account_id) WHERE read_at IS NULL;
CREATE INDEX notifications_created_idx ON notifications (created_at);

CREATE TABLE notification_preferences (
    account_id  uuid PRIMARY KEY REFERENCES accounts (id),
    muted       text[] NOT NULL DEFAULT '{}'
                CHECK (muted <@ ARRAY['missed_calls', 'online_alerts', 'wallet', 'announcements', 'offers']),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
