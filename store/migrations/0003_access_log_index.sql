-- The access log's entity index was the dearest part of a read: a page of 100 entities is
-- 100 index entries, and inserting them one request at a time cost more database time than
-- the page itself. Now the entries go to the index's pending list (cheap appends) and are
-- merged into the index in bulk: by the hub's access-log writer every 1,000 rows
-- (gin_clean_pending_list, store/access.py), and by vacuum where autovacuum runs. A list
-- left to fill up is merged by the insert that overflows it, stalling that request and all
-- that wait on the same write. Queries by entity see both. USCCs compare byte-wise
-- (collation "C"): they are ASCII codes.
DROP INDEX IF EXISTS access_log_entities;
ALTER TABLE access_log ALTER COLUMN entities TYPE text[] COLLATE "C";
CREATE INDEX access_log_entities ON access_log USING gin (entities)
    WITH (fastupdate = on, gin_pending_list_limit = 65536);
ALTER TABLE access_log SET (autovacuum_vacuum_insert_threshold = 2000,
                            autovacuum_vacuum_insert_scale_factor = 0);
