-- The ledger's session settings live in its database, not in startup options (`-c ...`), so that
-- a pooler in transaction mode (PgBouncer refuses startup options) works; they apply to sessions
-- opened after this commit (the data source clears its pool once migrations ran).
--   plan_cache_mode: statements are planned for their values every time: few, large, and taking
--   arrays. PostgreSQL's default keeps a statement's generic plan once five custom plans cost no
--   less, and a generic plan made while the ledger was nearly empty kept scanning it whole for the
--   duplicate check (26 ms of a 100-entry batch at 18,500 entries, against 0.19 ms planned for the
--   array at hand) until the first analyze.
-- ALTER DATABASE ... SET runs inside a transaction block; it needs the database's owner (the
-- service's role in a deployment) or a superuser (under `dotnet run`).
-- The session that runs this script started before: it takes the values too, for behind a pooler
-- its server connection lives on and serves the service's next transactions.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
    PERFORM set_config('plan_cache_mode', 'force_custom_plan', false);
END
$$;
