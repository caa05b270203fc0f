-- API keys: one org each; the secret is stored only as a SHA-256 hash.
CREATE TABLE api_keys (
    id           TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- space-separated scope names
    scopes       TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    created_by   TEXT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
    CONSTRAINT api_keys_org_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE
);
CREATE INDEX api_keys_org ON api_keys (org_id, id);
