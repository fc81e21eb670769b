-- Push notifications. Devices: FCM registration tokens of phone accounts (a token belongs to the
-- account that registered it last). The outbox: one row per notification and device, written in
-- the transaction of the event that causes it; workers on every node claim due rows
-- (FOR UPDATE SKIP LOCKED), send them, and mark them sent, or due again later, or failed.
CREATE TABLE devices (
    token       text PRIMARY KEY CHECK (char_length(token) BETWEEN 1 AND 4096),
    account_id  uuid NOT NULL REFERENCES accounts (id),
    platform    text NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_account_idx ON devices (account_id);

CREATE TABLE push_outbox (
    id               uuid PRIMARY KEY,
    account_id       uuid NOT NULL REFERENCES accounts (id),
    token            text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('MISSED_CALL', 'INCOMING_CALL', 'ONLINE_ALERT')),
    high_priority    boolean NOT NULL DEFAULT false,
    title            text,
    body             text,
    data             jsonb NOT NULL DEFAULT '{}',
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    failed_at        timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
-- What a worker claims: due, neither sent nor given up.
CREATE INDEX push_outbox_due_idx ON push_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
