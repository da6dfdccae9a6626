-- codesource schema, version 2: auto-build (docs/auto-build.md). Same rules as 0001.

-- Registrations: the JSON record is written with last_delivery_at = null (the column is
-- authoritative), so recording a delivery updates one small column.
CREATE TABLE autobuild_registrations (
    tenant TEXT NOT NULL,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    repo_id TEXT NOT NULL,
    rid TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL,
    last_delivery_at BIGINT,
    PRIMARY KEY (tenant, provider, account, repo_id)
);

-- Delivery ids seen per registration: the primary key is the arbiter of de-duplication
-- across replicas.
CREATE TABLE autobuild_delivery_ids (
    rid TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (rid, delivery_id)
);
CREATE INDEX autobuild_delivery_ids_at ON autobuild_delivery_ids (at_ms);

-- The last build event sequence number handed out. One row: appending events updates it,
-- which serializes appends, so events commit in sequence order.
CREATE TABLE build_event_seq (
    id INT PRIMARY KEY CHECK (id = 1),
    last BIGINT NOT NULL
);
INSERT INTO build_event_seq (id, last) VALUES (1, 0);

-- Build events; the unique event id is the arbiter of de-duplication by event.
CREATE TABLE build_events (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    received_at BIGINT NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX build_events_received ON build_events (received_at);

-- Events still to push; leased_until_ms = 0: not leased.
CREATE TABLE build_event_outbox (
    seq BIGINT PRIMARY KEY,
    attempts INT NOT NULL,
    next_at_ms BIGINT NOT NULL,
    leased_until_ms BIGINT NOT NULL
);
CREATE INDEX build_event_outbox_due ON build_event_outbox (next_at_ms);

CREATE TABLE autobuild_delivery_log (
    id BIGSERIAL PRIMARY KEY,
    rid TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX autobuild_delivery_log_rid ON autobuild_delivery_log (rid, id DESC);
CREATE INDEX autobuild_delivery_log_at ON autobuild_delivery_log (at_ms);
