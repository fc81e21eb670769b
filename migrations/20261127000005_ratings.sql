-- Ratings on telecaller cards: a user's 1-5 rating of a call counts toward the telecaller it
-- rated, unless an admin hid it. Tallies are kept per telecaller and for the platform, in the
-- same transaction as the feedback (or the hiding), so a card reads two rows, not every rating.
ALTER TABLE call_feedback ADD COLUMN hidden boolean NOT NULL DEFAULT false;

CREATE TABLE telecaller_ratings (
    telecaller_id  uuid PRIMARY KEY REFERENCES accounts (id),
    rating_sum     bigint NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    rating_count   bigint NOT NULL DEFAULT 0 CHECK (rating_count >= 0)
);

CREATE TABLE rating_totals (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    rating_sum    bigint NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    rating_count  bigint NOT NULL DEFAULT 0 CHECK (rating_count >= 0)
);
INSERT INTO rating_totals DEFAULT VALUES;

-- The ratings given before this migration.
INSERT INTO telecaller_ratings (telecaller_id, rating_sum, rating_count)
SELECT c.telecaller_id, sum(f.rating), count(f.rating)
FROM call_feedback f JOIN calls c ON c.id = f.call_id AND f.author_id = c.user_id
WHERE f.rating IS NOT NULL
GROUP BY c.telecaller_id;
UPDATE rating_totals SET rating_sum = t.s, rating_count = t.n
FROM (SELECT coalesce(sum(rating_sum), 0) AS s, coalesce(sum(rating_count), 0) AS n FROM telecaller_ratings) t;

-- A tally change is a change of her card: every node's card cache hears it.
CREATE TRIGGER telecaller_ratings_changed AFTER INSERT OR UPDATE OR DELETE ON telecaller_ratings
    FOR EACH ROW EXECUTE FUNCTION talktime_notify_change('account', 'telecaller_id');
-- The platform's totals move every card's smoothed average: every node drops its cards.
CREATE TRIGGER rating_totals_changed AFTER UPDATE ON rating_totals
    FOR EACH ROW EXECUTE FUNCTION talktime_notify_change('ratings', 'id');
