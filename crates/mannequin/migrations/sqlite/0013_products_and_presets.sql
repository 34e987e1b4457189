-- A shop's own product photos: stored cleaned (turned upright, metadata gone)
-- under image_key, with a thumbnail. A deleted product leaves every list and
-- new order but keeps its row and images, so what was made from it keeps
-- working.
CREATE TABLE products (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    name          TEXT NOT NULL,
    image_key     TEXT NOT NULL,
    thumb_key     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    width         BIGINT NOT NULL,
    height        BIGINT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT
);
CREATE INDEX products_account_newest ON products (account_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- An account's own presets (the system presets live in the code). Photo
-- shoots and packshots follow their guidelines. The cover and gallery are
-- images kept as products are; gallery_keys is a JSON list of keys.
CREATE TABLE presets (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts(id),
    name                 TEXT NOT NULL,
    guidelines           TEXT,
    quantity_guidelines  TEXT NOT NULL,
    quality_guidelines   TEXT NOT NULL,
    cover_key            TEXT,
    gallery_keys         TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    deleted_at           BIGINT
);
CREATE INDEX presets_account_newest ON presets (account_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
