-- Prices per host (issue 24): each telecaller may set her own price per call type (coins per
-- second the user pays) inside the operator's bounds; NULL charges the platform's default. A
-- price and her share are copied onto each call at initiate, so a change never touches a
-- running call.
ALTER TABLE app_config
    ADD COLUMN audio_min_rate bigint NOT NULL DEFAULT 1,
    ADD COLUMN audio_max_rate bigint,
    ADD COLUMN video_min_rate bigint NOT NULL DEFAULT 1,
    ADD COLUMN video_max_rate bigint;
-- Deployments start with room up to ten times their default price.
UPDATE app_config SET audio_max_rate = greatest(user_audio_coins_per_sec * 10, 1),
                      video_max_rate = greatest(user_video_coins_per_sec * 10, 1);
ALTER TABLE app_config
    ALTER COLUMN audio_max_rate SET NOT NULL,
    ALTER COLUMN video_max_rate SET NOT NULL,
    ADD CONSTRAINT app_config_audio_bounds CHECK (audio_min_rate >= 1 AND audio_min_rate <= audio_max_rate),
    ADD CONSTRAINT app_config_video_bounds CHECK (video_min_rate >= 1 AND video_min_rate <= video_max_rate);

ALTER TABLE telecaller_profiles
    ADD COLUMN audio_rate bigint CHECK (audio_rate >= 1),
    ADD COLUMN video_rate bigint CHECK (video_rate >= 1),
    -- When she last set her price herself (the cooldown runs from it; a clamp does not move it).
    ADD COLUMN rates_set_at timestamptz;

-- Her price history: every change, by her (SET) or by new bounds (CLAMPED); NULL = default.
CREATE TABLE telecaller_rate_changes (
    id bigserial PRIMARY KEY,
    telecaller_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    audio_rate bigint,
    video_rate bigint,
    cause text NOT NULL CHECK (cause IN ('SET', 'CLAMPED')),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX telecaller_rate_changes_idx ON telecaller_rate_changes (telecaller_id, created_at DESC, id DESC);
-- The clamp finds the prices outside new bounds without reading every profile.
CREATE INDEX telecaller_profiles_audio_rate_idx ON telecaller_profiles (audio_rate) WHERE audio_rate IS NOT NULL;
CREATE INDEX telecaller_profiles_video_rate_idx ON telecaller_profiles (video_rate) WHERE video_rate IS NOT NULL;
