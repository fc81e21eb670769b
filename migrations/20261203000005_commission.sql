-- Prices per host (issue 24), first part: the platform's commission, a share of what the user
-- pays, per call type, with an override per telecaller. It is copied onto each call at initiate
-- and settles it: she earns floor(paid × (10000 − commission) / 10000) (hundredths of a percent).
-- The defaults come from each type's two rates, so deployments keep their economics.
ALTER TABLE app_config
    ADD COLUMN audio_commission_hundredths integer,
    ADD COLUMN video_commission_hundredths integer;
UPDATE app_config SET
    audio_commission_hundredths =
        round(10000.0 * (user_audio_coins_per_sec - telecaller_audio_coins_per_sec) / user_audio_coins_per_sec),
    video_commission_hundredths =
        round(10000.0 * (user_video_coins_per_sec - telecaller_video_coins_per_sec) / user_video_coins_per_sec);
ALTER TABLE app_config
    ALTER COLUMN audio_commission_hundredths SET NOT NULL,
    ALTER COLUMN video_commission_hundredths SET NOT NULL,
    ADD CONSTRAINT app_config_audio_commission CHECK (audio_commission_hundredths BETWEEN 0 AND 10000),
    ADD CONSTRAINT app_config_video_commission CHECK (video_commission_hundredths BETWEEN 0 AND 10000),
    -- The telecaller rates are now what a commission leaves her (shown to the earlier panel): a
    -- commission of 100% leaves nothing.
    DROP CONSTRAINT app_config_telecaller_audio_coins_per_sec_check,
    DROP CONSTRAINT app_config_telecaller_video_coins_per_sec_check,
    ADD CONSTRAINT app_config_telecaller_audio_rate CHECK (telecaller_audio_coins_per_sec >= 0),
    ADD CONSTRAINT app_config_telecaller_video_rate CHECK (telecaller_video_coins_per_sec >= 0);

ALTER TABLE telecaller_profiles
    ADD COLUMN commission_hundredths integer CHECK (commission_hundredths BETWEEN 0 AND 10000);

-- NULL on calls placed before this migration: they settle by their telecaller_rate as before.
ALTER TABLE calls
    ADD COLUMN commission_hundredths integer CHECK (commission_hundredths BETWEEN 0 AND 10000);
