-- The coin ledger (double entry, append-only), recharges and withdrawals.

-- A wallet's ledger account has the id of its phone account; the platform accounts have fixed ids.
CREATE TABLE ledger_accounts (
    id        uuid PRIMARY KEY,
    kind      text NOT NULL CHECK (kind IN ('WALLET', 'GATEWAY', 'REVENUE', 'WITHDRAWAL_HOLDS', 'PAYOUTS')),
    owner_id  uuid UNIQUE REFERENCES accounts (id),
    -- Kept for wallets only (platform balances are summed when asked), updated by the entry
    -- trigger below in the same transaction, so it always equals the sum of the entries.
    balance   bigint NOT NULL DEFAULT 0,
    CONSTRAINT ledger_accounts_wallet_owner CHECK ((kind = 'WALLET') = (owner_id IS NOT NULL)),
    CONSTRAINT wallet_balance_not_negative CHECK (kind <> 'WALLET' OR balance >= 0)
);

INSERT INTO ledger_accounts (id, kind) VALUES
    ('00000000-0000-0000-0000-000000000001', 'GATEWAY'),
    ('00000000-0000-0000-0000-000000000002', 'REVENUE'),
    ('00000000-0000-0000-0000-000000000003', 'WITHDRAWAL_HOLDS'),
    ('00000000-0000-0000-0000-000000000004', 'PAYOUTS');

CREATE TABLE journals (
    id          uuid PRIMARY KEY,
    cause       text NOT NULL CHECK (cause IN ('RECHARGE', 'CALL', 'WITHDRAWAL_HOLD', 'WITHDRAWAL_PAID', 'WITHDRAWAL_RELEASED')),
    -- The recharge, call or withdrawal this journal posts. One journal per cause: the same
    -- recharge, call or withdrawal step can never be posted twice.
    cause_id    uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT journals_cause_key UNIQUE (cause, cause_id)
);

CREATE TABLE ledger_entries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    journal_id  uuid NOT NULL REFERENCES journals (id),
    account_id  uuid NOT NULL REFERENCES ledger_accounts (id),
    amount      bigint NOT NULL CHECK (amount <> 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, id);
CREATE INDEX ledger_entries_journal_idx ON ledger_entries (journal_id);

-- Entries move wallet balances in the same transaction; the CHECK above refuses overdrafts.
CREATE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id AND kind = 'WALLET';
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_entries_apply AFTER INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_apply_entry();

-- Every journal balances (two or more entries summing to zero), checked at commit.
CREATE FUNCTION ledger_check_journal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
    n integer;
BEGIN
    SELECT coalesce(sum(amount), 0), count(*) INTO total, n FROM ledger_entries WHERE journal_id = NEW.journal_id;
    IF total <> 0 OR n < 2 THEN
        RAISE EXCEPTION 'journal % is unbalanced (sum %, % entries)', NEW.journal_id, total, n
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_balanced';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_journal();

-- Append-only: corrections are new journals.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_append_only';
END $$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER journals_append_only BEFORE UPDATE OR DELETE ON journals
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- Recharges (coins bought through the gateway) and withdrawals (coins paid out to a bank).
CREATE TABLE transactions (
    id                   uuid PRIMARY KEY,
    account_id           uuid NOT NULL REFERENCES accounts (id),
    type                 text NOT NULL CHECK (type IN ('RECHARGE', 'WITHDRAWAL')),
    status               text NOT NULL CHECK (status IN ('PENDING', 'SUCCESS', 'FAILED', 'CANCELLED', 'REJECTED')),
    coins                bigint NOT NULL CHECK (coins > 0),
    -- Price paid (recharge) or rupees owed (withdrawal), in paise.
    amount_paise         bigint NOT NULL CHECK (amount_paise >= 0),
    plan_id              uuid REFERENCES plans (id),
    gateway_order_id     text,
    gateway_payment_id   text,
    -- Withdrawal: the bank details at request time (account number encrypted as in bank_details).
    bank_account_enc     bytea,
    bank_account_len     integer,
    bank_account_last4   text,
    bank_ifsc_code       text,
    bank_holder_name     text,
    transfer_reference   text,
    rejection_reason     text,
    processed_at         timestamptz,
    processed_by         uuid REFERENCES admins (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transactions_gateway_order_id_key UNIQUE (gateway_order_id),
    CONSTRAINT transactions_gateway_payment_id_key UNIQUE (gateway_payment_id),
    CHECK (type <> 'RECHARGE' OR (gateway_order_id IS NOT NULL AND plan_id IS NOT NULL)),
    CHECK (type <> 'WITHDRAWAL' OR (bank_account_enc IS NOT NULL AND status <> 'CANCELLED' AND status <> 'FAILED'))
);

-- One pending withdrawal per telecaller.
CREATE UNIQUE INDEX transactions_one_pending_withdrawal ON transactions (account_id)
    WHERE type = 'WITHDRAWAL' AND status = 'PENDING';
-- A user's or telecaller's own history, newest first.
CREATE INDEX transactions_owner_idx ON transactions (account_id, type, created_at DESC, id DESC);
-- Admin listings by type and status, newest first.
CREATE INDEX transactions_admin_idx ON transactions (type, status, created_at DESC, id DESC);
CREATE INDEX transactions_admin_type_idx ON transactions (type, created_at DESC, id DESC);
-- The reconciler's scan of pending recharges.
CREATE INDEX transactions_pending_recharges_idx ON transactions (created_at) WHERE type = 'RECHARGE' AND status = 'PENDING';

-- Razorpay webhook deliveries already handled (redeliveries are acknowledged and ignored).
CREATE TABLE webhook_events (
    event_id     text PRIMARY KEY,
    event_type   text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
