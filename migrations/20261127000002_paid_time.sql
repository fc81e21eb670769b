-- Paid time only: with LiveKit webhooks the meter starts when both parties are in the room, not
-- at accept; an accepted call whose media never connects ends SETUP_FAILED at no charge.
ALTER TABLE calls
    -- Billing runs from here (the accept itself when media is not watched).
    ADD COLUMN connected_at timestamptz,
    -- An ACCEPTED call not connected by then ends SETUP_FAILED.
    ADD COLUMN media_deadline timestamptz,
    -- When each party joined the room (LiveKit's participant_joined).
    ADD COLUMN user_joined_at timestamptz,
    ADD COLUMN telecaller_joined_at timestamptz;

UPDATE calls SET connected_at = accepted_at WHERE accepted_at IS NOT NULL;

ALTER TABLE calls DROP CONSTRAINT calls_check2;
ALTER TABLE calls ADD CONSTRAINT calls_accepted_has_a_clock CHECK (
    status <> 'ACCEPTED' OR (accepted_at IS NOT NULL AND (billing_deadline IS NOT NULL OR media_deadline IS NOT NULL))
);
ALTER TABLE calls ADD CONSTRAINT calls_billed_from_connection CHECK (billing_deadline IS NULL OR connected_at IS NOT NULL);

-- The sweeper also looks for accepted calls whose media never connected.
CREATE INDEX calls_media_due_idx ON calls (media_deadline) WHERE status = 'ACCEPTED' AND connected_at IS NULL;

-- Admin refunds of bad calls: one REFUND journal per call.
ALTER TABLE journals DROP CONSTRAINT journals_cause_check;
ALTER TABLE journals ADD CONSTRAINT journals_cause_check
    CHECK (cause IN ('RECHARGE', 'CALL', 'WITHDRAWAL_HOLD', 'WITHDRAWAL_PAID', 'WITHDRAWAL_RELEASED', 'REFUND', 'OPENING_BALANCE'));
