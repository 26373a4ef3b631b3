-- Communities (Discord-like servers): channels, roles with a 64-bit permission
-- bitfield, per-channel overwrites, members, invites, bans, messages,
-- reactions, pins, read state and the moderation audit log.
-- The permission rules are docs/permissions.md; the code is src/communities/perms.c.

CREATE TABLE communities (
    id              BIGINT PRIMARY KEY,
    owner_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    name_lc         TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    icon            TEXT,
    public          INTEGER NOT NULL DEFAULT 0,
    member_count    BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX communities_public_idx ON communities (public, member_count, id);
CREATE INDEX communities_owner_idx ON communities (owner_id);

-- position orders the hierarchy: higher is more powerful. @everyone is position 0
-- and is_everyone = 1; its id is the community id (as in Discord), so it needs no lookup.
CREATE TABLE roles (
    id              BIGINT PRIMARY KEY,
    community_id    BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    color           INTEGER NOT NULL DEFAULT 0,
    position        INTEGER NOT NULL DEFAULT 0,
    permissions     BIGINT NOT NULL DEFAULT 0,
    is_everyone     INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX roles_community_idx ON roles (community_id, position);

CREATE TABLE channels (
    id              BIGINT PRIMARY KEY,
    community_id    BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    type            TEXT NOT NULL CHECK (type IN ('text', 'announcement')),
    category        TEXT,
    topic           TEXT,
    position        INTEGER NOT NULL DEFAULT 0,
    last_message_id BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX channels_community_idx ON channels (community_id, position);

-- target_type 'role' (target_id = role id, the community id for @everyone) or 'member' (a user id).
CREATE TABLE channel_overwrites (
    channel_id      BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    target_type     TEXT NOT NULL CHECK (target_type IN ('role', 'member')),
    target_id       BIGINT NOT NULL,
    allow_bits      BIGINT NOT NULL DEFAULT 0,
    deny_bits       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, target_type, target_id)
);

CREATE TABLE members (
    community_id    BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nick            TEXT,
    joined_at       BIGINT NOT NULL,
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX members_user_idx ON members (user_id, community_id);

CREATE TABLE member_roles (
    community_id    BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    role_id         BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (community_id, user_id, role_id),
    FOREIGN KEY (community_id, user_id) REFERENCES members (community_id, user_id) ON DELETE CASCADE
);
CREATE INDEX member_roles_user_idx ON member_roles (user_id, community_id);

CREATE TABLE bans (
    community_id    BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason          TEXT,
    banned_by       BIGINT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (community_id, user_id)
);

CREATE TABLE invites (
    code            TEXT PRIMARY KEY,
    community_id    BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    inviter_id      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    max_uses        INTEGER NOT NULL DEFAULT 0,
    uses            INTEGER NOT NULL DEFAULT 0,
    expires_at      BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX invites_community_idx ON invites (community_id);

CREATE TABLE messages (
    id              BIGINT PRIMARY KEY,
    channel_id      BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    community_id    BIGINT NOT NULL,
    author_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    content         TEXT NOT NULL,
    reply_to        BIGINT,
    clip_id         BIGINT REFERENCES clips (id) ON DELETE SET NULL,
    mentions        TEXT NOT NULL DEFAULT '[]',
    mention_everyone INTEGER NOT NULL DEFAULT 0,
    pinned          INTEGER NOT NULL DEFAULT 0,
    edited_at       BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX messages_channel_idx ON messages (channel_id, id);
CREATE INDEX messages_pinned_idx ON messages (channel_id, pinned, id);

CREATE TABLE reactions (
    message_id      BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji           TEXT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE channel_reads (
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id      BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    last_read_id    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, channel_id)
);

CREATE TABLE audit_log (
    id              BIGINT PRIMARY KEY,
    community_id    BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    actor_id        BIGINT,
    action          TEXT NOT NULL,
    target_type     TEXT,
    target_id       BIGINT,
    detail          TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL
);
CREATE INDEX audit_log_community_idx ON audit_log (community_id, id);

-- A mention in a channel message points at the message (and so its channel and community).
ALTER TABLE notifications ADD COLUMN message_id BIGINT REFERENCES messages (id) ON DELETE CASCADE;
CREATE INDEX notifications_message_idx ON notifications (message_id);
