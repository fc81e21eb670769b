-- "Tell me when she's online": a user turns alerts on per favorite; when that telecaller comes
-- online, subscribers get one push, at most once per telecaller per cooldown (the window a
-- conditional upsert on `online_alerts` claims).
ALTER TABLE favorites ADD COLUMN alerts boolean NOT NULL DEFAULT false;

CREATE TABLE online_alerts (
    telecaller_id  uuid PRIMARY KEY REFERENCES accounts (id),
    sent_at        timestamptz NOT NULL
);
