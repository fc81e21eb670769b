-- Media presence is not socket presence: a party who leaves the call's room (LiveKit's
-- participant_left) gets a media grace of its own, ended only by rejoining the room. When it
-- runs out the call ends for that party and the meter stops at the moment they left.
ALTER TABLE calls
    ADD COLUMN user_left_room_at timestamptz,
    ADD COLUMN telecaller_left_room_at timestamptz,
    ADD COLUMN user_media_grace_deadline timestamptz,
    ADD COLUMN telecaller_media_grace_deadline timestamptz;
