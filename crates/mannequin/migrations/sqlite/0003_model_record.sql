-- What was asked of the image generator for a model, recorded when it settles:
-- the prompt sent, the seed, the backend and model name, and, from a generator
-- that could not follow every word, what it left out. And when a worker first
-- started the model and when it reached its terminal status.
ALTER TABLE models ADD COLUMN prompt TEXT;
ALTER TABLE models ADD COLUMN seed INTEGER;
ALTER TABLE models ADD COLUMN generator TEXT;
ALTER TABLE models ADD COLUMN generator_notes TEXT;
ALTER TABLE models ADD COLUMN started_at INTEGER;
ALTER TABLE models ADD COLUMN finished_at INTEGER;
