-- Paid chat and gifts (issue 27, docs/chat.md).
--
-- A chat session is a row of `calls` with call_type 'CHAT': it shares the one-active-session
-- indexes (a party in a chat cannot be in a call, and the reverse), the deadlines on the row, the
-- sweeper, the reconnect grace and the settlement. It is REQUESTED while RINGING and ACTIVE
-- while ACCEPTED (docs/chat.md maps the names); its meter runs from the accept.
ALTER TABLE calls DROP CONSTRAINT calls_call_type_check;
ALTER TABLE calls ADD CONSTRAINT calls_call_type_check CHECK (call_type IN ('AUDIO', 'VIDEO', 'CHAT'));
ALTER TABLE calls DROP CONSTRAINT calls_end_reason_check;
ALTER TABLE calls ADD CONSTRAINT calls_end_reason_check CHECK (end_reason IN ('USER_ENDED', 'TELECALLER_ENDED',
    'BALANCE_EXHAUSTED', 'USER_DISCONNECTED', 'TELECALLER_DISCONNECTED', 'ADMIN', 'ACCOUNT_BLOCKED', 'RING_TIMEOUT',
    'REJECTED', 'CANCELLED', 'SETUP_FAILED', 'INACTIVE'));
ALTER TABLE calls
    -- An active chat with no message from either party by then ends INACTIVE.
    ADD COLUMN inactive_deadline timestamptz,
    -- The last message's number in this chat (messages are numbered 1, 2, 3… per session).
    ADD COLUMN last_seq bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT calls_only_chats_go_inactive CHECK (inactive_deadline IS NULL OR call_type = 'CHAT');
-- Chat histories by type, newest first (calls' history indexes serve calls, which are most rows).
CREATE INDEX calls_user_chats_idx ON calls (user_id, created_at DESC, id DESC) WHERE call_type = 'CHAT';
CREATE INDEX calls_telecaller_chats_idx ON calls (telecaller_id, created_at DESC, id DESC) WHERE call_type = 'CHAT';

-- Chat prices: the platform's default, its commission, the bounds of hosts' own prices, and the
-- balance a chat needs to start (seconds at her price).
ALTER TABLE app_config
    ADD COLUMN user_chat_coins_per_sec bigint NOT NULL DEFAULT 1 CHECK (user_chat_coins_per_sec >= 1),
    ADD COLUMN telecaller_chat_coins_per_sec bigint NOT NULL DEFAULT 0 CHECK (telecaller_chat_coins_per_sec >= 0),
    ADD COLUMN chat_commission_hundredths integer NOT NULL DEFAULT 5000
        CHECK (chat_commission_hundredths BETWEEN 0 AND 10000),
    ADD COLUMN chat_min_rate bigint NOT NULL DEFAULT 1,
    ADD COLUMN chat_max_rate bigint NOT NULL DEFAULT 10,
    ADD COLUMN min_chat_balance_seconds bigint NOT NULL DEFAULT 60 CHECK (min_chat_balance_seconds >= 1),
    ADD CONSTRAINT app_config_chat_bounds CHECK (chat_min_rate >= 1 AND chat_min_rate <= chat_max_rate),
    ADD CONSTRAINT app_config_chat_rates CHECK (telecaller_chat_coins_per_sec <= user_chat_coins_per_sec);

ALTER TABLE telecaller_profiles ADD COLUMN chat_rate bigint CHECK (chat_rate >= 1);
ALTER TABLE telecaller_rate_changes ADD COLUMN chat_rate bigint;
CREATE INDEX telecaller_profiles_chat_rate_idx ON telecaller_profiles (chat_rate) WHERE chat_rate IS NOT NULL;

-- A chat's messages, numbered per session. `client_id` makes a retried send land once.
CREATE TABLE chat_messages (
    call_id     uuid NOT NULL REFERENCES calls (id),
    seq         bigint NOT NULL CHECK (seq >= 1),
    sender_id   uuid NOT NULL REFERENCES accounts (id),
    client_id   text NOT NULL CHECK (char_length(client_id) BETWEEN 1 AND 64),
    body        text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (call_id, seq),
    CONSTRAINT chat_messages_once_per_client_id UNIQUE (call_id, sender_id, client_id)
);

-- A report on a chat may point at one of its messages.
ALTER TABLE reports ADD COLUMN message_seq bigint CHECK (message_seq >= 1);

-- Gifts: the catalogue, and every gift sent during a call or chat.
CREATE TABLE gifts (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
    icon        text NOT NULL CHECK (char_length(icon) BETWEEN 1 AND 500),
    coins       bigint NOT NULL CHECK (coins >= 1),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gifts_active_idx ON gifts (coins, id) WHERE active;

CREATE TABLE gift_sends (
    id            uuid PRIMARY KEY,
    gift_id       uuid NOT NULL REFERENCES gifts (id),
    call_id       uuid NOT NULL REFERENCES calls (id),
    user_id       uuid NOT NULL REFERENCES accounts (id),
    telecaller_id uuid NOT NULL REFERENCES accounts (id),
    client_id     text NOT NULL CHECK (char_length(client_id) BETWEEN 1 AND 64),
    -- What she paid (promotional coins first), what the telecaller earned at her share.
    coins         bigint NOT NULL CHECK (coins >= 1),
    promo_coins   bigint NOT NULL CHECK (promo_coins >= 0 AND promo_coins <= coins),
    earned        bigint NOT NULL CHECK (earned >= 0 AND earned <= coins),
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT gift_sends_once_per_client_id UNIQUE (user_id, client_id)
);
CREATE INDEX gift_sends_call_idx ON gift_sends (call_id, created_at);
CREATE INDEX gift_sends_user_idx ON gift_sends (user_id, created_at DESC);
CREATE INDEX gift_sends_telecaller_idx ON gift_sends (telecaller_id, created_at DESC);
CREATE INDEX gift_sends_created_idx ON gift_sends (created_at);

-- CHAT settles a chat like CALL a call; GIFT moves a gift's coins (cause id: the gift_sends row).
ALTER TABLE journals DROP CONSTRAINT journals_cause_check;
ALTER TABLE journals ADD CONSTRAINT journals_cause_check CHECK (cause IN (
    'RECHARGE', 'CALL', 'WITHDRAWAL_HOLD', 'WITHDRAWAL_PAID', 'WITHDRAWAL_RELEASED', 'WITHDRAWAL_REVERSED', 'REFUND',
    'OPENING_BALANCE', 'SIGNUP_BONUS', 'FIRST_RECHARGE_BONUS', 'COUPON_BONUS', 'REFERRAL_BONUS', 'PROMO_EXPIRY',
    'DISPUTE_HOLD', 'DISPUTE_LOST', 'DISPUTE_RELEASED', 'DISPUTE_RECOVERY', 'CHAT', 'GIFT'));

-- A chat requested of an AWAY telecaller reaches her as a high-priority alert push (not a VoIP
-- ring: iOS requires a VoIP push to report a call).
ALTER TABLE push_outbox
    DROP CONSTRAINT push_outbox_kind_check,
    ADD CONSTRAINT push_outbox_kind_check
        CHECK (kind IN ('MISSED_CALL', 'INCOMING_CALL', 'CALL_CANCELLED', 'ONLINE_ALERT', 'BROADCAST', 'INCOMING_CHAT'));
