-- A change made in a unit of work is announced by its writer after the COMMIT (0015). A writer
-- that dies in between, or whose change-feed connection is down, leaves the other replicas'
-- caches holding the old state until the next change to the same bucket, however long that is.
-- Every unit of work that changed a bucket now takes a number from this sequence with its COMMIT
-- and announces it with its buckets. Each replica compares the numbers it has heard with the
-- sequence: a number issued and still unheard a full check period later was lost, and every
-- cached entry is dropped (src/db/change-feed.ts). A sequence takes no row lock and is not
-- rolled back, so writers never wait on each other for it; a number whose COMMIT then failed
-- costs one needless cache flush.
CREATE SEQUENCE certfleet_change_seq;
