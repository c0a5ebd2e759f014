-- The gateway's session settings live in its database, not in the connection string's startup
-- options (`-c ...`), so that a pooler in transaction mode (PgBouncer refuses startup options)
-- hands out server connections that already have them. They apply to every session opened after
-- this commit; the data source clears its pool once migrations ran (DatabaseStartup).
--   plan_cache_mode: prepared statements keep their generic plan. PostgreSQL's default planned the
--   key look-ups and CTE writes again on every execution while the generic plan's estimate looked
--   dearer, 8% of the database's CPU under load.
--   lock_timeout, statement_timeout: a request waits at most 10 s for a row lock and 30 s for a
--   statement, and fails with the reason rather than holding its connection for ever.
-- ALTER DATABASE ... SET runs inside a transaction block (only SET TABLESPACE and CREATE/DROP
-- DATABASE cannot); it needs the database's owner or a superuser: the service's own role owns its
-- database in a deployment (deploy/k8s), the superuser under `dotnet run`.
-- The session that runs this script started before: it takes the values too, for behind a pooler
-- its server connection lives on and serves the service's next transactions.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_generic_plan', current_database());
    EXECUTE format('ALTER DATABASE %I SET lock_timeout = %L', current_database(), '10s');
    EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '30s');
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', false);
    PERFORM set_config('lock_timeout', '10s', false);
    PERFORM set_config('statement_timeout', '30s', false);
END
$$;
