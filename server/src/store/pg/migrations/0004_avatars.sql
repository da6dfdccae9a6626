-- Avatar images apart from the binding records, which every page load and credential call
-- reads: a record keeps only the image's content type and SHA-256 (`AvatarRef`), the image
-- (a `StoredAvatar` JSON, up to 256 KiB of image) is here and read by the avatar route alone.
-- Removed with its binding by the foreign key, in the same statement.
CREATE TABLE avatars (
    tenant TEXT NOT NULL,
    provider TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (tenant, provider),
    FOREIGN KEY (tenant, provider) REFERENCES bindings (tenant, provider) ON DELETE CASCADE
);

-- Records older versions wrote carry the image inline: moved here now, in this migration's
-- transaction (not lazily on read), and removed from the record.
INSERT INTO avatars (tenant, provider, record)
SELECT tenant, provider, (record::jsonb -> 'avatar')::text
FROM bindings
WHERE record::jsonb -> 'avatar' ? 'data_b64';

UPDATE bindings
SET record = jsonb_set(record::jsonb, '{avatar}', (record::jsonb -> 'avatar') - 'data_b64')::text
WHERE record::jsonb -> 'avatar' ? 'data_b64';
