-- A telecaller "reachable by push": while her app has no connection she is AWAY, and a call to
-- her rings through a high-priority push to her devices.
ALTER TABLE telecaller_profiles ADD COLUMN reachable_by_push boolean NOT NULL DEFAULT false;

-- Who can be rung through a push (read when a node starts, to publish them AWAY).
CREATE INDEX telecaller_profiles_push_idx ON telecaller_profiles (account_id) WHERE reachable_by_push;

-- A call to an AWAY telecaller rang through a push; if it stops ringing before she answers, her
-- devices are told to stop ringing too.
ALTER TABLE calls ADD COLUMN rung_by_push boolean NOT NULL DEFAULT false;

ALTER TABLE push_outbox DROP CONSTRAINT push_outbox_kind_check;
ALTER TABLE push_outbox ADD CONSTRAINT push_outbox_kind_check
    CHECK (kind IN ('MISSED_CALL', 'INCOMING_CALL', 'CALL_CANCELLED', 'ONLINE_ALERT'));
