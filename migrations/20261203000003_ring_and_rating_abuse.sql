-- A rating counts towards the telecaller's card only from a call billed at least
-- RATING_MIN_BILLED_SECONDS; a shorter call's feedback is kept (its comment too) but not counted.
-- Ratings given before this migration were counted, and stay so.
ALTER TABLE call_feedback ADD COLUMN counts boolean NOT NULL DEFAULT true;

-- Push rings per telecaller in the last hour (PUSH_RINGS_PER_HOUR).
CREATE INDEX calls_push_rings_idx ON calls (telecaller_id, created_at DESC) WHERE rung_by_push;
