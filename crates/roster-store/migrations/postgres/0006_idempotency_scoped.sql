-- Idempotency keys are now scoped to the authenticated principal (user or
-- API key), method and path, and answers that carry a secret are never
-- kept. Records written before were scoped to a hash of the raw
-- credential header (so anonymous and revoked callers had rows), and some
-- held plaintext secrets (org access tokens): none can match a new scope,
-- so drop them all rather than keep secrets at rest for their 24 hours.
DELETE FROM idempotency_keys;
