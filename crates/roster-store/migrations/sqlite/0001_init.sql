-- Roster schema, step 1 (SQLite). Keep in step with migrations/postgres/0001_init.sql.
-- Ids are UUID v7 text (sorts in creation order), timestamps are milliseconds
-- since the Unix epoch, JSON arrays are text. Tables are STRICT so a value of
-- the wrong type is refused instead of stored.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id             TEXT PRIMARY KEY NOT NULL,
    -- Sequential: MAX(number)+1, computed inside the (exclusive) write transaction.
    number         INTEGER NOT NULL UNIQUE,
    email          TEXT NOT NULL UNIQUE,
    username       TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL DEFAULT '',
    password_hash  TEXT,
    email_verified INTEGER NOT NULL CHECK (email_verified IN (0, 1)),
    status         TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'archived', 'inactive')),
    -- Lowercase "email username name", for member search.
    search         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE orgs (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    referral_code TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'archived', 'inactive')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- WITHOUT ROWID: the primary key is the table's own b-tree, so a member
-- page is one range scan of (org_id, user_id).
CREATE TABLE memberships (
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    labels     TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX memberships_user_org ON memberships (user_id, org_id);
CREATE INDEX memberships_org_role_user ON memberships (org_id, role, user_id);

CREATE TABLE projects (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'archived', 'inactive')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX projects_org_id ON projects (org_id, id);

CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX project_members_user ON project_members (user_id);

CREATE TABLE invitations (
    id                  TEXT PRIMARY KEY NOT NULL,
    org_id              TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email               TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    message             TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL
        CHECK (status IN ('pending', 'sent', 'accepted', 'declined', 'revoked', 'expired')),
    -- JSON: [{"project_id": "…", "role": "admin"}]
    project_assignments TEXT NOT NULL DEFAULT '[]',
    token_hash          TEXT NOT NULL UNIQUE,
    created_by          TEXT,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
-- One open invitation per address and org.
CREATE UNIQUE INDEX invitations_open_email ON invitations (org_id, email)
    WHERE status IN ('pending', 'sent');
-- Open invitations of an address to any org (signup in invite-only mode).
CREATE INDEX invitations_open_by_email ON invitations (email)
    WHERE status IN ('pending', 'sent');
CREATE INDEX invitations_org_id ON invitations (org_id, id);

-- No foreign key to orgs: the events outlive a deleted org.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    summary     TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_events_org_id ON audit_events (org_id, id);
