-- A deleted account's withdrawals keep only the masked bank number (last four digits and
-- length): the encrypted full number is erased with the account.
ALTER TABLE transactions DROP CONSTRAINT transactions_check1;
ALTER TABLE transactions ADD CONSTRAINT transactions_withdrawal_bank_check
    CHECK (type <> 'WITHDRAWAL' OR (bank_account_last4 IS NOT NULL AND status <> 'CANCELLED' AND status <> 'FAILED'));
UPDATE transactions t SET bank_account_enc = NULL
FROM accounts a WHERE a.id = t.account_id AND a.status = 'DELETED' AND t.type = 'WITHDRAWAL';

-- Phones of deleted accounts, as a keyed digest (HMAC under a key derived from SECRETS_KEY, so
-- the table names no number): `talktime import` never brings such an account back.
CREATE TABLE deleted_phones (
    phone_digest  bytea PRIMARY KEY,
    deleted_at    timestamptz NOT NULL DEFAULT now()
);

-- LiveKit webhook event ids already handled (each is acted on once); pruned after an hour, when
-- LiveKit's createdAt refuses a replay anyway (5 minutes).
CREATE TABLE media_webhook_events (
    id           text PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_webhook_events_received_idx ON media_webhook_events (received_at);
