-- Email verification tokens and the persistent outbox.

CREATE TABLE email_verifications (
    hash       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    CONSTRAINT email_verifications_pkey PRIMARY KEY (hash),
    CONSTRAINT email_verifications_user_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX email_verifications_user ON email_verifications (user_id);

-- Emails are written in the transaction of the change that causes them and
-- delivered by a worker; no foreign key to invitations, so the delivery
-- record outlives a deleted org.
CREATE TABLE outbox_emails (
    id              TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    invitation_id   TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    CONSTRAINT outbox_emails_pkey PRIMARY KEY (id)
);
CREATE INDEX outbox_emails_due ON outbox_emails (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_emails_invitation ON outbox_emails (invitation_id, created_at);
CREATE INDEX outbox_emails_recipient ON outbox_emails (recipient, id);
