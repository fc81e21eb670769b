-- Coupons and referrals (issue 24).

-- A coupon: a code users apply to an order. DISCOUNT_PERCENT lowers the amount charged;
-- BONUS_COINS and BONUS_PERCENT add promotional coins when the payment is captured. `value`:
-- coins, or a whole percent (1–100). `used` counts redemptions reserved or consumed, so the
-- conditional update that takes one is the only place the limit is decided.
CREATE TABLE coupons (
    id               uuid PRIMARY KEY,
    code             text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('BONUS_COINS', 'BONUS_PERCENT', 'DISCOUNT_PERCENT')),
    value            bigint NOT NULL CHECK (value > 0),
    max_redemptions  integer CHECK (max_redemptions > 0),
    per_user_limit   integer NOT NULL DEFAULT 1 CHECK (per_user_limit > 0),
    valid_from       timestamptz,
    valid_until      timestamptz,
    new_users_only   boolean NOT NULL DEFAULT false,
    plan_ids         uuid[] NOT NULL DEFAULT '{}',
    is_active        boolean NOT NULL DEFAULT true,
    used             integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT coupons_percent_value CHECK (kind = 'BONUS_COINS' OR value <= 100),
    CONSTRAINT coupons_limit CHECK (max_redemptions IS NULL OR used <= max_redemptions),
    CONSTRAINT coupons_window CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until)
);
CREATE UNIQUE INDEX coupons_code_key ON coupons (upper(code));
CREATE INDEX coupons_listing_idx ON coupons (created_at DESC, id DESC);

-- One per order that applied a coupon: RESERVED by the order, REDEEMED once at capture,
-- RELEASED when the order fails or expires (by the trigger below, whoever closes it).
CREATE TABLE coupon_redemptions (
    id              uuid PRIMARY KEY,
    coupon_id       uuid NOT NULL REFERENCES coupons (id),
    account_id      uuid NOT NULL REFERENCES accounts (id),
    transaction_id  uuid NOT NULL UNIQUE REFERENCES transactions (id),
    status          text NOT NULL CHECK (status IN ('RESERVED', 'REDEEMED', 'RELEASED')),
    -- What it gave: the discount in paise, or the promotional coins.
    discount_paise  bigint NOT NULL DEFAULT 0,
    bonus_coins     bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX coupon_redemptions_coupon_idx ON coupon_redemptions (coupon_id, created_at DESC, id DESC);
CREATE INDEX coupon_redemptions_user_idx ON coupon_redemptions (coupon_id, account_id) WHERE status <> 'RELEASED';
CREATE INDEX coupon_redemptions_redeemed_idx ON coupon_redemptions (updated_at) WHERE status = 'REDEEMED';

CREATE FUNCTION coupon_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH released AS (
        UPDATE coupon_redemptions SET status = 'RELEASED', updated_at = clock_timestamp()
        WHERE transaction_id = NEW.id AND status = 'RESERVED' RETURNING coupon_id)
    UPDATE coupons c SET used = used - 1 FROM released r WHERE c.id = r.coupon_id;
    RETURN NULL;
END $$;

-- An order that fails, is cancelled or expires gives its coupon back.
CREATE TRIGGER transactions_release_coupon AFTER UPDATE OF status ON transactions
    FOR EACH ROW WHEN (OLD.status = 'PENDING' AND NEW.status IN ('FAILED', 'CANCELLED', 'REJECTED'))
    EXECUTE FUNCTION coupon_release();

-- Referrals: every account has a code; a new user may give one, and at her first captured
-- recharge both get the referral bonus unless a rule refuses it.
-- A code is 10 hexadecimal characters, drawn again until no account has it.
CREATE FUNCTION fresh_referral_code() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    candidate text;
BEGIN
    LOOP
        candidate := upper(substr(md5(gen_random_uuid()::text), 1, 10));
        EXIT WHEN NOT EXISTS (SELECT 1 FROM accounts WHERE referral_code = candidate);
    END LOOP;
    RETURN candidate;
END $$;

ALTER TABLE accounts ADD COLUMN referral_code text;
UPDATE accounts SET referral_code = fresh_referral_code();
ALTER TABLE accounts
    ALTER COLUMN referral_code SET NOT NULL,
    ALTER COLUMN referral_code SET DEFAULT fresh_referral_code();
CREATE UNIQUE INDEX accounts_referral_code_key ON accounts (referral_code);

CREATE TABLE referrals (
    id           uuid PRIMARY KEY,
    referrer_id  uuid NOT NULL REFERENCES accounts (id),
    referee_id   uuid NOT NULL UNIQUE REFERENCES accounts (id),
    status       text NOT NULL CHECK (status IN ('PENDING', 'REWARDED', 'REJECTED')),
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    decided_at   timestamptz,
    CONSTRAINT referrals_not_self CHECK (referrer_id <> referee_id)
);
CREATE INDEX referrals_referrer_idx ON referrals (referrer_id, created_at DESC, id DESC);
CREATE INDEX referrals_rewarded_idx ON referrals (referrer_id, decided_at) WHERE status = 'REWARDED';

-- Which accounts ever registered a push device (a hash of its token): a referral between two
-- accounts of one device, or a second reward through the same device, is refused.
CREATE TABLE device_owners (
    token_hash  bytea NOT NULL,
    account_id  uuid NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (token_hash, account_id)
);
CREATE INDEX device_owners_account_idx ON device_owners (account_id);

CREATE FUNCTION device_owner_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO device_owners (token_hash, account_id)
    VALUES (sha256(convert_to(NEW.token, 'UTF8')), NEW.account_id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER devices_record_owner AFTER INSERT OR UPDATE OF account_id ON devices
    FOR EACH ROW EXECUTE FUNCTION device_owner_record();
INSERT INTO device_owners (token_hash, account_id)
SELECT sha256(convert_to(token, 'UTF8')), account_id FROM devices ON CONFLICT DO NOTHING;

-- The dashboard's promotion figures for a period.
CREATE INDEX promo_lots_created_idx ON promo_lots (created_at);
CREATE INDEX calls_promo_spend_idx ON calls (ended_at) WHERE promo_spent > 0 OR free_coins > 0;
CREATE INDEX journals_expiry_idx ON journals (created_at) WHERE cause = 'PROMO_EXPIRY';
