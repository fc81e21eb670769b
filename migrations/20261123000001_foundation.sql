-- Foundation: phone accounts, telecaller profiles, one-time codes, admins, plans, app config.
-- Wire values are stored as text with CHECK constraints so the database refuses what the code
-- would refuse.

CREATE TABLE accounts (
    id             uuid PRIMARY KEY,
    phone          text NOT NULL UNIQUE CHECK (phone ~ '^[0-9]{10,15}$'),
    role           text NOT NULL DEFAULT 'USER' CHECK (role IN ('USER', 'TELECALLER')),
    status         text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED')),
    name           text,
    dob            date,
    gender         text CHECK (gender IN ('MALE', 'FEMALE', 'OTHER')),
    language       text CHECK (language IN ('english', 'hindi', 'tamil', 'telugu', 'kannada', 'malayalam',
                                            'bengali', 'marathi', 'gujarati', 'punjabi', 'urdu', 'odia')),
    profile        text CHECK (profile ~ '^avatar-[1-8]$'),
    -- Bumped by logout, suspension and role changes: every older token stops working.
    token_version  integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Admin listings and dashboard counts go by role and creation time.
CREATE INDEX accounts_role_created_idx ON accounts (role, created_at DESC, id DESC);

CREATE TABLE telecaller_profiles (
    account_id          uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    about               text NOT NULL CHECK (char_length(about) BETWEEN 50 AND 500),
    approval_status     text NOT NULL DEFAULT 'PENDING' CHECK (approval_status IN ('PENDING', 'APPROVED', 'REJECTED')),
    verification_notes  text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX telecaller_profiles_status_idx ON telecaller_profiles (approval_status, created_at DESC, account_id DESC);

-- One live challenge per phone; a new code replaces the previous one.
CREATE TABLE otp_challenges (
    phone        text PRIMARY KEY CHECK (phone ~ '^[0-9]{10,15}$'),
    -- HMAC-SHA256 of phone and code under a server key: the code itself is never stored.
    code_hash    bytea NOT NULL,
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
    sent_at      timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    consumed_at  timestamptz
);

CREATE TABLE admins (
    id             uuid PRIMARY KEY,
    email          text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    name           text NOT NULL,
    token_version  integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX admins_email_key ON admins (email);

CREATE TABLE plans (
    id                   uuid PRIMARY KEY,
    amount_paise         bigint NOT NULL CHECK (amount_paise > 0),
    coins                bigint NOT NULL CHECK (coins > 0),
    discount_percentage  integer NOT NULL DEFAULT 0 CHECK (discount_percentage BETWEEN 0 AND 99),
    is_active            boolean NOT NULL DEFAULT true,
    deleted_at           timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- The user-facing listing: active, not deleted, by price.
CREATE INDEX plans_listing_idx ON plans (amount_paise, id) WHERE is_active AND deleted_at IS NULL;

-- The single row of admin-editable prices. Rates are coins per second.
CREATE TABLE app_config (
    id                                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- Coins per rupee for withdrawals, in hundredths (100 = 1 coin per rupee), so no float is stored.
    inr_to_coin_ratio_hundredths       bigint NOT NULL CHECK (inr_to_coin_ratio_hundredths >= 1),
    min_withdrawal_coins               bigint NOT NULL CHECK (min_withdrawal_coins >= 1),
    user_audio_coins_per_sec           bigint NOT NULL CHECK (user_audio_coins_per_sec >= 1),
    user_video_coins_per_sec           bigint NOT NULL CHECK (user_video_coins_per_sec >= 1),
    telecaller_audio_coins_per_sec     bigint NOT NULL CHECK (telecaller_audio_coins_per_sec >= 1),
    telecaller_video_coins_per_sec     bigint NOT NULL CHECK (telecaller_video_coins_per_sec >= 1),
    min_call_balance_seconds           bigint NOT NULL CHECK (min_call_balance_seconds >= 1),
    updated_at                         timestamptz NOT NULL DEFAULT now(),
    CHECK (telecaller_audio_coins_per_sec <= user_audio_coins_per_sec),
    CHECK (telecaller_video_coins_per_sec <= user_video_coins_per_sec)
);

INSERT INTO app_config (inr_to_coin_ratio_hundredths, min_withdrawal_coins,
                        user_audio_coins_per_sec, user_video_coins_per_sec,
                        telecaller_audio_coins_per_sec, telecaller_video_coins_per_sec,
                        min_call_balance_seconds)
VALUES (100, 500, 2, 4, 1, 2, 60);
