-- The banks' plan cache setting lives in their database, not in startup options (`-c ...`); it
-- applies to sessions opened after this commit (the data source clears its pool once migrations
-- ran). Every bank wants the same, so each bank's run of this script sets the same value.
--   plan_cache_mode: prepared statements keep their generic plan. The issuers' few-row batches by
--   primary key (`= ANY($1)`, `unnest`) were planned again on every execution, 6% of the database's
--   CPU under load; a generic plan cannot see an array's length, which does not matter for a key
--   look-up per element.
-- A bank's schema (its tenant in the shared issuerdb) is still the data source's search path, a
-- startup parameter: it differs per bank in one database, so it is no database setting, and the
-- banks connect to PostgreSQL directly, never through the platform's pooler (docs/operations.md).
-- The session that runs this script started before: it takes the values too, for behind a pooler
-- its server connection lives on and serves the service's next transactions.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_generic_plan', current_database());
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', false);
END
$$;
