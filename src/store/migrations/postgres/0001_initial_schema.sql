-- msnpd initial schema (PostgreSQL). Keep in step with ../sqlite/0001_initial_schema.sql:
-- both directories must hold the same migration versions and names.

-- Accounts. `list_version` is bumped by every change to the user's lists, groups,
-- settings, nick or phones. Identity ids are never reused.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    nick          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    md5_salt      TEXT,
    md5_verifier  TEXT,
    privacy       TEXT    NOT NULL DEFAULT 'AL' CHECK (privacy IN ('AL', 'BL')),
    prompt        TEXT    NOT NULL DEFAULT 'A'  CHECK (prompt IN ('A', 'N')),
    list_version  BIGINT  NOT NULL DEFAULT 0    CHECK (list_version >= 0),
    created_at    BIGINT  NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::BIGINT)
);

-- A user's contact groups; group 0 always exists.
CREATE TABLE contact_groups (
    owner_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL CHECK (group_id >= 0),
    name     TEXT    NOT NULL,
    PRIMARY KEY (owner_id, group_id)
);

-- One row per (owner, contact) with the lists (bitmask FL=1 AL=2 BL=4 RL=8) the
-- contact is on; rows with no bits left are deleted.
CREATE TABLE contacts (
    owner_id   BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lists      INTEGER NOT NULL CHECK (lists BETWEEN 1 AND 15),
    PRIMARY KEY (owner_id, contact_id)
);
CREATE INDEX contacts_by_contact ON contacts (contact_id);

-- Forward-list group memberships.
CREATE TABLE group_members (
    owner_id   BIGINT  NOT NULL,
    contact_id BIGINT  NOT NULL,
    group_id   INTEGER NOT NULL,
    PRIMARY KEY (owner_id, contact_id, group_id),
    FOREIGN KEY (owner_id, contact_id) REFERENCES contacts (owner_id, contact_id) ON DELETE CASCADE,
    FOREIGN KEY (owner_id, group_id) REFERENCES contact_groups (owner_id, group_id) ON DELETE CASCADE
);
CREATE INDEX group_members_by_group ON group_members (owner_id, group_id);

-- A user's own phone numbers (PHH, PHW, PHM, MOB).
CREATE TABLE phones (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT   NOT NULL CHECK (kind IN ('PHH', 'PHW', 'PHM', 'MOB')),
    value   TEXT   NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Server-wide secrets (e.g. the ticket-signing key), created once and shared by
-- every process on this store.
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
