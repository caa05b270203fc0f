-- Member search by index (issue 7): a trigram GIN index over users.search,
-- so `q=` finds the few matching users without scanning every member.
-- pg_trgm ships with PostgreSQL's contrib and is a trusted extension, but a
-- server may lack it or refuse it: then search keeps working by scanning,
-- and this step says so in the server log instead of failing.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX users_search_trgm ON users USING gin (search gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): member search scans', SQLERRM;
END
$$;
