-- Account deletion (`DELETE /users/me`): the row stays, because the ledger, calls and reports
-- name it, but its personal data is erased and its phone replaced by a tombstone, so the number
-- can sign up afresh as a new account.
ALTER TABLE accounts DROP CONSTRAINT accounts_status_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_status_check CHECK (status IN ('ACTIVE', 'SUSPENDED', 'DELETED'));
ALTER TABLE accounts DROP CONSTRAINT accounts_phone_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_phone_check
    CHECK (phone ~ '^[0-9]{10,15}$' OR (status = 'DELETED' AND phone = 'deleted-' || id::text));
ALTER TABLE accounts ADD COLUMN deleted_at timestamptz;

-- Erasing a telecaller drops the favorites that name her.
CREATE INDEX favorites_telecaller_idx ON favorites (telecaller_id);
