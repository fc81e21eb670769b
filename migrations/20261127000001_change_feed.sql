-- Every node keeps read caches (accounts for per-request checks, telecaller cards, favorites,
-- the app config). Postgres tells them what changed: any write to these tables notifies channel
-- `talktime_changes` with `<kind>:<id>` at commit, whatever wrote it (a service, the CLI, an
-- operator with psql), and every node evicts that entry.
CREATE FUNCTION talktime_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'talktime_changes',
        TG_ARGV[0] || ':' || coalesce(to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END) ->> TG_ARGV[1], '')
    );
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_changed AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION talktime_notify_change('account', 'id');
CREATE TRIGGER telecaller_profiles_changed AFTER INSERT OR UPDATE OR DELETE ON telecaller_profiles
    FOR EACH ROW EXECUTE FUNCTION talktime_notify_change('account', 'account_id');
CREATE TRIGGER admins_changed AFTER INSERT OR UPDATE OR DELETE ON admins
    FOR EACH ROW EXECUTE FUNCTION talktime_notify_change('admin', 'id');
CREATE TRIGGER favorites_changed AFTER INSERT OR UPDATE OR DELETE ON favorites
    FOR EACH ROW EXECUTE FUNCTION talktime_notify_change('favorites', 'user_id');
CREATE TRIGGER app_config_changed AFTER INSERT OR UPDATE OR DELETE ON app_config
    FOR EACH ROW EXECUTE FUNCTION talktime_notify_change('config', 'id');

-- Paging snapshots of the telecaller list moved out of Postgres (listing never writes here).
DROP TABLE telecaller_list_snapshots;
