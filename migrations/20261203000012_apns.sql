-- iPhones rung through APNs (issue 26, first part): a device is an alert token (FCM, or APNs
-- when configured, for iOS) or a PushKit VoIP token (APNs, iOS, rings only). The outbox keeps the
-- platform and kind of the device each row is for, so the worker picks the provider without a
-- lookup.
ALTER TABLE devices
    ADD COLUMN kind text NOT NULL DEFAULT 'alert' CHECK (kind IN ('alert', 'voip')),
    ADD CONSTRAINT devices_voip_is_ios CHECK (kind <> 'voip' OR platform = 'ios');

ALTER TABLE push_outbox
    ADD COLUMN platform text NOT NULL DEFAULT 'android' CHECK (platform IN ('android', 'ios', 'web')),
    ADD COLUMN device_kind text NOT NULL DEFAULT 'alert' CHECK (device_kind IN ('alert', 'voip'));

UPDATE push_outbox o SET platform = d.platform FROM devices d WHERE d.token = o.token;
