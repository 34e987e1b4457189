-- Pictures made from a shop's product (photo shoots, packshots) name it, so
-- their lists can be filtered by product (`?productId=`) from an index, and
-- the model and scenery they were made from, which their list items show.
-- NULL for what is made from words.
ALTER TABLE models ADD COLUMN product_id TEXT;
ALTER TABLE models ADD COLUMN input_model_id TEXT;
ALTER TABLE models ADD COLUMN input_set_id TEXT;
CREATE INDEX models_account_product ON models (account_id, product_id, created_at DESC, id DESC)
    WHERE product_id IS NOT NULL;
