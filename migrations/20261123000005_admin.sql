-- Admin audit log: who changed what, on which target, from what to what.

CREATE TABLE admin_audit_log (
    id           uuid PRIMARY KEY,
    admin_id     uuid NOT NULL REFERENCES admins (id),
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    uuid,
    before       jsonb,
    after        jsonb,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX admin_audit_log_created_idx ON admin_audit_log (created_at DESC, id DESC);

-- Admin user search by phone prefix and name prefix.
CREATE INDEX accounts_phone_prefix_idx ON accounts (phone text_pattern_ops);
CREATE INDEX accounts_name_prefix_idx ON accounts (lower(name) text_pattern_ops);
