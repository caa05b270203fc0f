-- API keys: one org each; the secret is stored only as a SHA-256 hash.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- space-separated scope names
    scopes       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX api_keys_org ON api_keys (org_id, id);
