-- No index on a model's status. A reservation's unsettled models are found
-- through its batch (index models_batch, the status a filter over ten or so
-- rows), so a model's moves to PROCESSING and to its outcome change no indexed
-- column and can be heap-only updates: no new index entries, given room on the
-- page, which the fill factor keeps for them.
DROP INDEX models_reservation_open;
ALTER TABLE models SET (fillfactor = 80);
