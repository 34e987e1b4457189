-- A reservation's unsettled models are found through its batch (index
-- models_batch, the status a filter), so the index on open models goes: one
-- index fewer to update at each of a model's moves.
DROP INDEX models_reservation_open;
