-- codesource schema, version 5: pushes held until the code host confirms them (GitLab's token
-- and Gitee's signature do not cover the body). Same rules as 0001.

-- leased_until_ms = 0: not leased. The JSON record holds the push; the columns are what the
-- claim filters on. The id is one per delivery (`held_push_id`), so a redelivery conflicts.
CREATE TABLE autobuild_held_pushes (
    id TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    next_at_ms BIGINT NOT NULL,
    leased_until_ms BIGINT NOT NULL
);
CREATE INDEX autobuild_held_pushes_due ON autobuild_held_pushes (next_at_ms);
