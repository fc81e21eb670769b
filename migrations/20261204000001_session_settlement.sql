-- The end of an accepted call or chat and its settlement as one round trip (issue 28).
--
-- `session_funding` is the money rule of a session's settlement, written once more in SQL for
-- the hot path: what `talktime_domain::call::session_funding` computes (docs/money.md).
-- A repository test runs both on the same inputs and fails if they ever disagree.
CREATE FUNCTION session_funding(
    seconds bigint, user_rate bigint, telecaller_rate bigint, commission integer, free_seconds integer,
    paid_balance bigint, promo_balance bigint,
    OUT free bigint, OUT promo bigint, OUT paid bigint, OUT earned bigint, OUT revenue bigint, OUT marketing bigint)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    -- Products in numeric, capped: the Rust rule saturates where bigint would overflow.
    cap CONSTANT numeric := 9223372036854775807;
    free_value bigint := least(least(seconds, free_seconds::bigint)::numeric * user_rate, cap);
    available numeric := paid_balance::numeric + promo_balance + free_value;
    value bigint;
    spent bigint;
    earned_on_paid bigint;
BEGIN
    -- bill(seconds, rates, paid + promo + free)
    value := least(least(greatest(seconds, 0)::numeric * greatest(user_rate, 0), cap), greatest(available, 0));
    IF commission IS NULL THEN
        earned := least(least(greatest(seconds, 0)::numeric * greatest(telecaller_rate, 0), cap), value);
    ELSE
        earned := floor(value::numeric * (10000 - least(greatest(commission, 0), 10000)) / 10000);
    END IF;
    -- Funding::split(value, free_value, earned, promo_balance)
    free := least(greatest(free_value, 0), value);
    spent := value - free;
    promo := least(spent, greatest(promo_balance, 0));
    paid := spent - promo;
    earned := least(greatest(earned, 0), value);
    earned_on_paid := CASE WHEN value <= 0 THEN 0 ELSE floor(earned::numeric * paid / value) END;
    revenue := paid - earned_on_paid;
    marketing := promo - (earned - earned_on_paid);
END $$;

-- ACCEPTED → COMPLETED for `reason` and the settlement, in one call: the row locked if it is
-- ACCEPTED (`p_party`, when given, must be a party; `p_chat` says whether a chat or a call is
-- meant), the whole seconds billed (from the connection to the earlier of now and the billing
-- deadline; a party out of the room is billed to the moment they left it; SETUP_FAILED and a
-- call whose media never connected bill nothing), the user's balances locked (paid wallet first,
-- as a recharge takes them), the bill, the promotional lots consumed soonest-expiring first, one
-- balanced journal (cause CALL or CHAT, id `p_journal`; the books' triggers check it), and the
-- row written once with its end and settlement (the room's cleanup retry due in
-- `p_room_retry_secs`). Returns the ended row, or nothing when the call was not ACCEPTED
-- (someone else ended it, or it is not the party's).
CREATE FUNCTION end_accepted_session(
    p_id uuid, p_party uuid, p_chat boolean, p_reason text, p_journal uuid, p_room_retry_secs double precision)
RETURNS SETOF calls LANGUAGE plpgsql AS $$
DECLARE
    c calls;
    ended timestamptz;
    seconds bigint := 0;
    wallet_id uuid;
    promo_id uuid;
    paid_balance bigint := 0;
    promo_balance bigint := 0;
    a record;
    f record;
    journal uuid;
BEGIN
    SELECT * INTO c FROM calls
    WHERE id = p_id AND status = 'ACCEPTED' AND (call_type = 'CHAT') = p_chat
      AND (p_party IS NULL OR p_party IN (user_id, telecaller_id))
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    ended := clock_timestamp();
    IF c.connected_at IS NOT NULL AND p_reason <> 'SETUP_FAILED' THEN
        seconds := GREATEST(0, floor(extract(epoch FROM LEAST(ended, c.billing_deadline,
            CASE p_reason WHEN 'USER_DISCONNECTED' THEN c.user_left_room_at
                          WHEN 'TELECALLER_DISCONNECTED' THEN c.telecaller_left_room_at END) - c.connected_at)));
    END IF;

    FOR a IN SELECT id, kind, balance FROM ledger_accounts WHERE owner_id = c.user_id ORDER BY kind DESC FOR UPDATE LOOP
        IF a.kind = 'WALLET' THEN
            wallet_id := a.id;
            paid_balance := a.balance;
        ELSIF a.kind = 'PROMO_WALLET' THEN
            promo_id := a.id;
            promo_balance := a.balance;
        END IF;
    END LOOP;
    SELECT * INTO f FROM session_funding(seconds, c.user_rate, c.telecaller_rate, c.commission_hundredths,
                                         c.free_seconds, paid_balance, promo_balance);

    IF f.promo > 0 THEN
        WITH locked AS (SELECT id, remaining, expires_at FROM promo_lots WHERE account_id = c.user_id AND remaining > 0
                        ORDER BY expires_at, id FOR UPDATE),
             running AS (SELECT id, remaining, (sum(remaining) OVER (ORDER BY expires_at, id))::bigint - remaining AS before
                         FROM locked)
        UPDATE promo_lots p SET remaining = p.remaining - least(r.remaining, f.promo - r.before)
        FROM running r WHERE p.id = r.id AND r.before < f.promo;
    END IF;

    IF f.paid <> 0 OR f.promo <> 0 OR f.earned <> 0 OR f.revenue <> 0 OR f.marketing <> 0 THEN
        IF f.earned <> 0 THEN
            INSERT INTO ledger_accounts (id, kind, owner_id) VALUES (c.telecaller_id, 'WALLET', c.telecaller_id)
            ON CONFLICT (id) DO NOTHING;
        END IF;
        INSERT INTO journals (id, cause, cause_id)
        VALUES (p_journal, CASE WHEN c.call_type = 'CHAT' THEN 'CHAT' ELSE 'CALL' END, c.id)
        ON CONFLICT (cause, cause_id) DO NOTHING RETURNING id INTO journal;
        IF journal IS NOT NULL THEN
            INSERT INTO ledger_entries (journal_id, account_id, amount)
            SELECT journal, e.account, e.amount
            FROM unnest(ARRAY[wallet_id, promo_id, c.telecaller_id,
                              '00000000-0000-0000-0000-000000000002'::uuid, '00000000-0000-0000-0000-000000000005'::uuid],
                        ARRAY[-f.paid, -f.promo, f.earned, f.revenue, f.marketing]) AS e(account, amount)
            WHERE e.amount <> 0;
        END IF;
    END IF;

    UPDATE calls SET status = 'COMPLETED', end_reason = p_reason, ended_at = ended, media_deadline = NULL,
        duration_seconds = seconds, user_grace_deadline = NULL, telecaller_grace_deadline = NULL,
        user_media_grace_deadline = NULL, telecaller_media_grace_deadline = NULL, inactive_deadline = NULL,
        coins_spent = f.paid + f.promo, coins_earned = f.earned, promo_spent = f.promo, free_coins = f.free,
        room_retry_at = CASE WHEN call_type = 'CHAT' THEN NULL ELSE ended + make_interval(secs => p_room_retry_secs) END
    WHERE id = c.id
    RETURNING * INTO c;
    RETURN NEXT c;
END $$;
