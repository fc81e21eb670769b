-- Promotions (issue 24): promotional coins are their own balance. Each user has a promotional
-- wallet beside the paid one (kind PROMO_WALLET, the same owner), funded from the platform's
-- MARKETING account; calls spend it first; what it paid for is a marketing cost, never revenue.
ALTER TABLE ledger_accounts
    DROP CONSTRAINT ledger_accounts_kind_check,
    ADD CONSTRAINT ledger_accounts_kind_check
        CHECK (kind IN ('WALLET', 'PROMO_WALLET', 'GATEWAY', 'REVENUE', 'WITHDRAWAL_HOLDS', 'PAYOUTS', 'MARKETING')),
    DROP CONSTRAINT ledger_accounts_owner_id_key,
    ADD CONSTRAINT ledger_accounts_owner_kind_key UNIQUE (owner_id, kind),
    DROP CONSTRAINT ledger_accounts_wallet_owner,
    ADD CONSTRAINT ledger_accounts_wallet_owner CHECK ((kind IN ('WALLET', 'PROMO_WALLET')) = (owner_id IS NOT NULL)),
    DROP CONSTRAINT wallet_balance_not_negative,
    ADD CONSTRAINT wallet_balance_not_negative CHECK (kind NOT IN ('WALLET', 'PROMO_WALLET') OR balance >= 0);

INSERT INTO ledger_accounts (id, kind) VALUES ('00000000-0000-0000-0000-000000000005', 'MARKETING');

CREATE OR REPLACE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_accounts SET balance = balance + NEW.amount
    WHERE id = NEW.account_id AND kind IN ('WALLET', 'PROMO_WALLET');
    RETURN NEW;
END $$;

ALTER TABLE journals DROP CONSTRAINT journals_cause_check;
ALTER TABLE journals ADD CONSTRAINT journals_cause_check CHECK (cause IN (
    'RECHARGE', 'CALL', 'WITHDRAWAL_HOLD', 'WITHDRAWAL_PAID', 'WITHDRAWAL_RELEASED', 'REFUND', 'OPENING_BALANCE',
    'SIGNUP_BONUS', 'FIRST_RECHARGE_BONUS', 'COUPON_BONUS', 'REFERRAL_BONUS', 'PROMO_EXPIRY'));

-- Promotional coins by where they came from and when they expire. A grant's journal has the lot's
-- id as its cause id; a refund's promotional part comes back as a lot of its own. Calls spend
-- the lots that expire first; the sweeper expires what is left of a lot at `expires_at` (journal
-- PROMO_EXPIRY, cause id the lot). The books check: a user's lots' `remaining` sum to her
-- promotional wallet.
CREATE TABLE promo_lots (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id),
    cause       text NOT NULL CHECK (cause IN ('SIGNUP_BONUS', 'FIRST_RECHARGE_BONUS', 'COUPON_BONUS',
                                               'REFERRAL_BONUS', 'REFUND')),
    -- The recharge, call or referral it came with (NULL for a signup bonus).
    source_id   uuid,
    coins       bigint NOT NULL CHECK (coins > 0),
    remaining   bigint NOT NULL CHECK (remaining >= 0 AND remaining <= coins),
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX promo_lots_spend_idx ON promo_lots (account_id, expires_at, id) WHERE remaining > 0;
CREATE INDEX promo_lots_due_idx ON promo_lots (expires_at) WHERE remaining > 0;
CREATE INDEX promo_lots_history_idx ON promo_lots (account_id, created_at DESC, id DESC);
-- One first-recharge bonus per user, one signup bonus per account.
CREATE UNIQUE INDEX promo_lots_first_recharge_key ON promo_lots (account_id) WHERE cause = 'FIRST_RECHARGE_BONUS';
CREATE UNIQUE INDEX promo_lots_signup_key ON promo_lots (account_id) WHERE cause = 'SIGNUP_BONUS';

-- Rewards claimed once per phone number ever (and per device): keyed digests, so a deleted
-- account's number is recognised without being kept.
CREATE TABLE promo_claims (
    kind        text NOT NULL CHECK (kind IN ('SIGNUP_BONUS', 'REFERRAL_PHONE', 'REFERRAL_DEVICE')),
    digest      bytea NOT NULL,
    account_id  uuid NOT NULL REFERENCES accounts (id),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (kind, digest)
);

-- The promotions an operator runs (PUT /admin/config).
ALTER TABLE app_config
    ADD COLUMN signup_bonus_coins bigint NOT NULL DEFAULT 0 CHECK (signup_bonus_coins >= 0),
    ADD COLUMN first_recharge_bonus_hundredths integer NOT NULL DEFAULT 0
        CHECK (first_recharge_bonus_hundredths BETWEEN 0 AND 100000),
    ADD COLUMN first_call_free_seconds integer NOT NULL DEFAULT 0 CHECK (first_call_free_seconds >= 0),
    ADD COLUMN referral_bonus_coins bigint NOT NULL DEFAULT 0 CHECK (referral_bonus_coins >= 0);

-- What a call's user paid from where: `coins_spent` = paid + promo; `free_coins` (a first call's
-- free seconds at her price) were paid by MARKETING. `free_seconds` is set at accept.
ALTER TABLE calls
    ADD COLUMN free_seconds integer NOT NULL DEFAULT 0,
    ADD COLUMN promo_spent bigint NOT NULL DEFAULT 0,
    ADD COLUMN free_coins bigint NOT NULL DEFAULT 0;
-- Whether a user has had a billed call (her first one gets the free seconds).
CREATE INDEX calls_user_billed_idx ON calls (user_id) WHERE status = 'COMPLETED' AND duration_seconds > 0;
