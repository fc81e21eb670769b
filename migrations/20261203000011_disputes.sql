-- Chargebacks (issue 25, last part): a payment dispute freezes what is left in the wallet of the
-- recharge it is about (DISPUTE_HOLDS); a lost one returns the recharge's coins to the gateway,
-- taking the frozen coins and, for what was already spent, what her paid wallet holds now and
-- then a negative position (her DISPUTE_DEBT account, at most 0) that her next recharges pay
-- first; a won or closed one gives the frozen coins back. A lost dispute issues a credit note.
ALTER TABLE ledger_accounts
    DROP CONSTRAINT ledger_accounts_kind_check,
    ADD CONSTRAINT ledger_accounts_kind_check
        CHECK (kind IN ('WALLET', 'PROMO_WALLET', 'DISPUTE_DEBT', 'GATEWAY', 'REVENUE', 'WITHDRAWAL_HOLDS', 'PAYOUTS',
                        'MARKETING', 'TDS_PAYABLE', 'DISPUTE_HOLDS')),
    DROP CONSTRAINT ledger_accounts_wallet_owner,
    ADD CONSTRAINT ledger_accounts_wallet_owner
        CHECK ((kind IN ('WALLET', 'PROMO_WALLET', 'DISPUTE_DEBT')) = (owner_id IS NOT NULL)),
    ADD CONSTRAINT dispute_debt_not_positive CHECK (kind <> 'DISPUTE_DEBT' OR balance <= 0);

INSERT INTO ledger_accounts (id, kind) VALUES ('00000000-0000-0000-0000-000000000007', 'DISPUTE_HOLDS');

-- A debt's balance is kept like a wallet's, so "what she can spend" (the sum of her accounts)
-- goes below zero while she owes.
CREATE OR REPLACE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_accounts SET balance = balance + NEW.amount
    WHERE id = NEW.account_id AND kind IN ('WALLET', 'PROMO_WALLET', 'DISPUTE_DEBT');
    RETURN NEW;
END $$;

ALTER TABLE journals DROP CONSTRAINT journals_cause_check;
ALTER TABLE journals ADD CONSTRAINT journals_cause_check CHECK (cause IN (
    'RECHARGE', 'CALL', 'WITHDRAWAL_HOLD', 'WITHDRAWAL_PAID', 'WITHDRAWAL_RELEASED', 'WITHDRAWAL_REVERSED', 'REFUND',
    'OPENING_BALANCE', 'SIGNUP_BONUS', 'FIRST_RECHARGE_BONUS', 'COUPON_BONUS', 'REFERRAL_BONUS', 'PROMO_EXPIRY',
    'DISPUTE_HOLD', 'DISPUTE_LOST', 'DISPUTE_RELEASED', 'DISPUTE_RECOVERY'));

-- One row per Razorpay dispute. `held_coins`: frozen when it opened; `owed_coins`: what a lost
-- one still has her owe (paid down by her next recharges).
CREATE TABLE disputes (
    id                  uuid PRIMARY KEY,
    gateway_dispute_id  text NOT NULL UNIQUE,
    transaction_id      uuid NOT NULL REFERENCES transactions (id),
    account_id          uuid NOT NULL REFERENCES accounts (id),
    status              text NOT NULL CHECK (status IN ('OPEN', 'LOST', 'WON', 'CLOSED')),
    amount_paise        bigint NOT NULL CHECK (amount_paise >= 0),
    coins               bigint NOT NULL CHECK (coins > 0),
    held_coins          bigint NOT NULL CHECK (held_coins >= 0 AND held_coins <= coins),
    owed_coins          bigint NOT NULL DEFAULT 0 CHECK (owed_coins >= 0 AND owed_coins <= coins),
    reason              text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    resolved_at         timestamptz,
    CHECK (status = 'LOST' OR owed_coins = 0)
);
-- One open dispute per recharge (Razorpay opens one per payment at a time).
CREATE UNIQUE INDEX disputes_one_open_per_recharge ON disputes (transaction_id) WHERE status = 'OPEN';
CREATE INDEX disputes_admin_idx ON disputes (status, created_at DESC, id DESC);
CREATE INDEX disputes_admin_all_idx ON disputes (created_at DESC, id DESC);
-- Her debts, oldest first, paid down at her next capture.
CREATE INDEX disputes_owed_idx ON disputes (account_id, created_at) WHERE owed_coins > 0;
