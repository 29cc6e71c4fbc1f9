-- msnpd offline messages and conversation history (SQLite). Keep in step with
-- ../postgres/0002_messages.sql: both directories must hold the same migration
-- versions and names. Design: protocol-spec/offline-messages.md.

-- Conversations: one per pair of accounts (key 'pair:LOW_ID:HIGH_ID', members set,
-- deleted with either account) or per multi-party switchboard (key 'room:HEX',
-- no members). `last_seq` is the sequence number of the newest history entry.
CREATE TABLE conversations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT    NOT NULL UNIQUE,
    member_low  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    member_high INTEGER REFERENCES users (id) ON DELETE CASCADE,
    last_seq    INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    created_at  INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX conversations_by_member_low ON conversations (member_low);
CREATE INDEX conversations_by_member_high ON conversations (member_high);

-- Every message relayed or stored, numbered 1, 2, ... per conversation.
-- `sent_at_us` is when the server accepted it (unix microseconds).
CREATE TABLE history (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    sender_email    TEXT    NOT NULL,
    sender_nick     TEXT    NOT NULL,
    sent_at_us      INTEGER NOT NULL,
    payload         BLOB    NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- Messages waiting for their recipient's next login. A row goes only once the
-- message was written to the recipient's connection. (conversation_id, seq) names
-- the message's history entry when history is on (no foreign key: history may be
-- pruned independently).
CREATE TABLE offline_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sender_email    TEXT    NOT NULL,
    sender_nick     TEXT    NOT NULL,
    sent_at_us      INTEGER NOT NULL,
    payload         BLOB    NOT NULL,
    conversation_id INTEGER,
    seq             INTEGER
);
CREATE INDEX offline_messages_by_recipient ON offline_messages (recipient_id, sent_at_us, id);
