-- Idempotency keys: the first answer to a write, replayed to its retries
-- for 24 hours. `status` is NULL while the first request is in flight.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       BIGINT,
    response     TEXT,
    created_at   BIGINT NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
