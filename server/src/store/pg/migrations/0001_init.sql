-- codesource schema, version 1. Only SQL that PostgreSQL-compatible distributed databases
-- accept: no extensions, no advisory locks, no PL/pgSQL; leases are rows.
-- Records are the JSON the sled backend stores; the columns next to them are what queries
-- filter and order by.

CREATE TABLE bindings (
    tenant TEXT NOT NULL,
    provider TEXT NOT NULL,
    -- StoredBinding JSON, written with check_claimed_until = null (the column is authoritative).
    record TEXT NOT NULL,
    needs_reauth BOOLEAN NOT NULL,
    last_checked_at BIGINT,
    check_claimed_until BIGINT,
    PRIMARY KEY (tenant, provider)
);
-- claim_due: the least recently checked usable bindings first.
CREATE INDEX bindings_due ON bindings (needs_reauth, last_checked_at);

CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    tenant TEXT NOT NULL,
    at BIGINT NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX audit_tenant_at ON audit (tenant, at DESC, id DESC);
CREATE INDEX audit_at ON audit (at);

CREATE TABLE pending (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    provider TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX pending_tenant ON pending (tenant, created_at);
CREATE INDEX pending_created ON pending (created_at);

CREATE TABLE oauth_flows (
    state_hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX oauth_flows_tenant ON oauth_flows (tenant, created_at);
CREATE INDEX oauth_flows_created ON oauth_flows (created_at);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
