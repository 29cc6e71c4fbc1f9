-- msnpd offline messages and conversation history (PostgreSQL). Keep in step with
-- ../sqlite/0002_messages.sql: both directories must hold the same migration
-- versions and names. Design: protocol-spec/offline-messages.md.

-- Conversations: one per pair of accounts (key 'pair:LOW_ID:HIGH_ID', members set,
-- deleted with either account) or per multi-party switchboard (key 'room:HEX',
-- no members). `last_seq` is the sequence number of the newest history entry.
CREATE TABLE conversations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         TEXT   NOT NULL UNIQUE,
    member_low  BIGINT REFERENCES users (id) ON DELETE CASCADE,
    member_high BIGINT REFERENCES users (id) ON DELETE CASCADE,
    last_seq    BIGINT NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    created_at  BIGINT NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::BIGINT)
);
CREATE INDEX conversations_by_member_low ON conversations (member_low);
CREATE INDEX conversations_by_member_high ON conversations (member_high);

-- Every message relayed or stored, numbered 1, 2, ... per conversation.
-- `sent_at_us` is when the server accepted it (unix microseconds).
CREATE TABLE history (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL CHECK (seq >= 1),
    sender_email    TEXT   NOT NULL,
    sender_nick     TEXT   NOT NULL,
    sent_at_us      BIGINT NOT NULL,
    payload         BYTEA  NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- Messages waiting for their recipient's next login. A row goes only once the
-- message was written to the recipient's connection. (conversation_id, seq) names
-- the message's history entry when history is on (no foreign key: history may be
-- pruned independently).
CREATE TABLE offline_messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sender_email    TEXT   NOT NULL,
    sender_nick     TEXT   NOT NULL,
    sent_at_us      BIGINT NOT NULL,
    payload         BYTEA  NOT NULL,
    conversation_id BIGINT,
    seq             BIGINT
);
CREATE INDEX offline_messages_by_recipient ON offline_messages (recipient_id, sent_at_us, id);
