-- Favorites, bank details (account number encrypted), and telecaller list snapshots.

CREATE TABLE favorites (
    user_id        uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    telecaller_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (user_id, telecaller_id),
    CHECK (user_id <> telecaller_id)
);

-- "Newest saved first", paged with a tie-break on the telecaller id.
CREATE INDEX favorites_listing_idx ON favorites (user_id, created_at DESC, telecaller_id DESC);

CREATE TABLE bank_details (
    telecaller_id        uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    -- version byte || 24-byte nonce || XChaCha20-Poly1305 ciphertext; the telecaller id is the
    -- associated data, so a ciphertext copied to another row does not decrypt.
    account_number_enc   bytea NOT NULL,
    account_number_len   integer NOT NULL CHECK (account_number_len BETWEEN 9 AND 18),
    account_last4        text NOT NULL CHECK (account_last4 ~ '^[0-9]{4}$'),
    ifsc_code            text NOT NULL CHECK (ifsc_code ~ '^[A-Z]{4}0[A-Z0-9]{6}$'),
    account_holder_name  text NOT NULL CHECK (char_length(account_holder_name) BETWEEN 3 AND 100),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- The order a user saw on page 1 of /users/telecallers, so later pages slice the same list and
-- presence changes never repeat or skip a telecaller who stayed online.
CREATE TABLE telecaller_list_snapshots (
    user_id     uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    language    text,
    ids         uuid[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
