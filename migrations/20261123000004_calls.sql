-- Calls, their feedback and reports.

CREATE TABLE calls (
    id                          uuid PRIMARY KEY,
    user_id                     uuid NOT NULL REFERENCES accounts (id),
    telecaller_id               uuid NOT NULL REFERENCES accounts (id),
    call_type                   text NOT NULL CHECK (call_type IN ('AUDIO', 'VIDEO')),
    status                      text NOT NULL CHECK (status IN ('RINGING', 'ACCEPTED', 'COMPLETED', 'REJECTED', 'MISSED', 'CANCELLED')),
    end_reason                  text CHECK (end_reason IN ('USER_ENDED', 'TELECALLER_ENDED', 'BALANCE_EXHAUSTED',
                                    'USER_DISCONNECTED', 'TELECALLER_DISCONNECTED', 'ADMIN', 'ACCOUNT_BLOCKED',
                                    'RING_TIMEOUT', 'REJECTED', 'CANCELLED', 'SETUP_FAILED')),
    -- Prices copied at initiate: later price changes never touch this call.
    user_rate                   bigint NOT NULL CHECK (user_rate >= 1),
    telecaller_rate             bigint NOT NULL CHECK (telecaller_rate >= 0),
    created_at                  timestamptz NOT NULL DEFAULT clock_timestamp(),
    ring_deadline               timestamptz NOT NULL,
    accepted_at                 timestamptz,
    max_duration_seconds        bigint,
    billing_deadline            timestamptz,
    balance_low_sent            boolean NOT NULL DEFAULT false,
    -- Set while a party has no connection; the call ends if it is still set when it passes.
    user_grace_deadline         timestamptz,
    telecaller_grace_deadline   timestamptz,
    ended_at                    timestamptz,
    duration_seconds            bigint,
    coins_spent                 bigint,
    coins_earned                bigint,
    -- LiveKit room cleanup: closed once DeleteRoom succeeded; retried from room_retry_at.
    room_closed_at              timestamptz,
    room_retry_at               timestamptz,
    CHECK (user_id <> telecaller_id),
    CHECK (telecaller_rate <= user_rate),
    CHECK (status <> 'ACCEPTED' OR (accepted_at IS NOT NULL AND billing_deadline IS NOT NULL)),
    CHECK ((status IN ('RINGING', 'ACCEPTED')) = (end_reason IS NULL))
);

-- One active call per party, whatever races happen.
CREATE UNIQUE INDEX calls_one_active_user ON calls (user_id) WHERE status IN ('RINGING', 'ACCEPTED');
CREATE UNIQUE INDEX calls_one_active_telecaller ON calls (telecaller_id) WHERE status IN ('RINGING', 'ACCEPTED');
-- Histories, newest first.
CREATE INDEX calls_user_history_idx ON calls (user_id, created_at DESC, id DESC);
CREATE INDEX calls_telecaller_history_idx ON calls (telecaller_id, created_at DESC, id DESC);
-- The sweeper's scans: active calls, and rooms still to close.
CREATE INDEX calls_active_idx ON calls (status) WHERE status IN ('RINGING', 'ACCEPTED');
CREATE INDEX calls_room_cleanup_idx ON calls (room_retry_at) WHERE room_closed_at IS NULL AND room_retry_at IS NOT NULL;

CREATE TABLE call_feedback (
    call_id     uuid NOT NULL REFERENCES calls (id),
    author_id   uuid NOT NULL REFERENCES accounts (id),
    rating      integer CHECK (rating BETWEEN 1 AND 5),
    comment     text CHECK (char_length(comment) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (call_id, author_id)
);

CREATE TABLE reports (
    id           uuid PRIMARY KEY,
    call_id      uuid NOT NULL REFERENCES calls (id),
    reporter_id  uuid NOT NULL REFERENCES accounts (id),
    reported_id  uuid NOT NULL REFERENCES accounts (id),
    description  text NOT NULL CHECK (char_length(description) BETWEEN 10 AND 1000),
    status       text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'UNDER_REVIEW', 'RESOLVED', 'DISMISSED')),
    admin_notes  text CHECK (char_length(admin_notes) <= 2000),
    resolved_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reports_once_per_reporter UNIQUE (call_id, reporter_id)
);

CREATE INDEX reports_status_idx ON reports (status, created_at DESC, id DESC);
CREATE INDEX reports_reported_idx ON reports (reported_id, created_at DESC);
