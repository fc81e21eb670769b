-- Issue 25, second part: hosts' KYC (PAN), TDS withheld on payouts, and payouts through
-- RazorpayX.

-- TDS settings (docs/tax.md): rates in hundredths of a percent, the year's threshold in paise.
ALTER TABLE app_config
    ADD COLUMN tds_rate_with_pan_hundredths integer NOT NULL DEFAULT 1000
        CHECK (tds_rate_with_pan_hundredths BETWEEN 0 AND 10000),
    ADD COLUMN tds_rate_without_pan_hundredths integer NOT NULL DEFAULT 2000
        CHECK (tds_rate_without_pan_hundredths BETWEEN 0 AND 10000),
    ADD COLUMN tds_annual_threshold_paise bigint NOT NULL DEFAULT 3000000 CHECK (tds_annual_threshold_paise >= 0),
    ADD COLUMN tds_section text NOT NULL DEFAULT '194J';

-- A telecaller's PAN, encrypted like her bank account number (the owner's id is the associated
-- data). Kept when the account is deleted: TDS returns name the deductee's PAN.
CREATE TABLE host_kyc (
    telecaller_id     uuid PRIMARY KEY REFERENCES accounts (id),
    pan_enc           bytea NOT NULL,
    pan_last4         text NOT NULL,
    name_on_pan       text NOT NULL,
    status            text NOT NULL CHECK (status IN ('PENDING', 'VERIFIED', 'REJECTED')),
    rejection_reason  text,
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz,
    decided_by        uuid REFERENCES admins (id),
    CHECK ((status = 'REJECTED') = (rejection_reason IS NOT NULL))
);

-- A withdrawal's TDS, fixed with its rupee amount when she asks (docs/tax.md): the paise withheld,
-- the coins of the paid journal that go to TDS_PAYABLE rather than out, the rate and the section.
-- APPROVED: an admin (or the automatic rule) let the payout provider pay it; it is in flight.
ALTER TABLE transactions
    ADD COLUMN tds_paise bigint NOT NULL DEFAULT 0 CHECK (tds_paise >= 0 AND tds_paise <= amount_paise),
    ADD COLUMN tds_coins bigint NOT NULL DEFAULT 0 CHECK (tds_coins >= 0 AND tds_coins <= coins),
    ADD COLUMN tds_rate_hundredths integer,
    ADD COLUMN tds_section text,
    ADD COLUMN with_pan boolean,
    ADD COLUMN approved_at timestamptz,
    ADD COLUMN payout_id text,
    ADD COLUMN payout_mode text,
    ADD COLUMN payout_error text,
    ADD CONSTRAINT transactions_payout_id_key UNIQUE (payout_id),
    DROP CONSTRAINT transactions_status_check,
    ADD CONSTRAINT transactions_status_check
        CHECK (status IN ('PENDING', 'APPROVED', 'SUCCESS', 'FAILED', 'CANCELLED', 'REJECTED'));

-- One open withdrawal per telecaller: waiting for an admin, or in the provider's hands.
DROP INDEX transactions_one_pending_withdrawal;
CREATE UNIQUE INDEX transactions_one_pending_withdrawal ON transactions (account_id)
    WHERE type = 'WITHDRAWAL' AND status IN ('PENDING', 'APPROVED');
-- The payout reconciler's scan, and a year's payouts of one telecaller (TDS, the KYC gate, her
-- statement, the quarter's export).
CREATE INDEX transactions_approved_withdrawals_idx ON transactions (approved_at)
    WHERE type = 'WITHDRAWAL' AND status = 'APPROVED';
CREATE INDEX transactions_paid_withdrawals_idx ON transactions (processed_at, account_id)
    WHERE type = 'WITHDRAWAL' AND status = 'SUCCESS';

-- RazorpayX's contact for a telecaller, and a fund account per set of bank details (keyed by a
-- digest of the stored ciphertext, which changes exactly when she saves new details), created
-- once and remembered.
CREATE TABLE payout_contacts (
    telecaller_id  uuid PRIMARY KEY REFERENCES accounts (id),
    contact_id     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE payout_fund_accounts (
    telecaller_id    uuid NOT NULL REFERENCES accounts (id),
    bank_key         bytea NOT NULL,
    fund_account_id  text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (telecaller_id, bank_key)
);

ALTER TABLE ledger_accounts
    DROP CONSTRAINT ledger_accounts_kind_check,
    ADD CONSTRAINT ledger_accounts_kind_check
        CHECK (kind IN ('WALLET', 'PROMO_WALLET', 'GATEWAY', 'REVENUE', 'WITHDRAWAL_HOLDS', 'PAYOUTS', 'MARKETING',
                        'TDS_PAYABLE'));

-- WITHDRAWAL_REVERSED: a paid withdrawal the bank sent back (payout.reversed): the net coins and
-- the TDS return to her wallet.
ALTER TABLE journals DROP CONSTRAINT journals_cause_check;
ALTER TABLE journals ADD CONSTRAINT journals_cause_check CHECK (cause IN (
    'RECHARGE', 'CALL', 'WITHDRAWAL_HOLD', 'WITHDRAWAL_PAID', 'WITHDRAWAL_RELEASED', 'WITHDRAWAL_REVERSED', 'REFUND',
    'OPENING_BALANCE', 'SIGNUP_BONUS', 'FIRST_RECHARGE_BONUS', 'COUPON_BONUS', 'REFERRAL_BONUS', 'PROMO_EXPIRY'));

INSERT INTO ledger_accounts (id, kind) VALUES ('00000000-0000-0000-0000-000000000006', 'TDS_PAYABLE');
