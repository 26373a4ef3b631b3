-- Social: posts, the follow graph, blocks, engagement, notifications and
-- what the feeds keep incrementally (counters, decayed trend keys, affinities).
-- See docs/feed.md for the formulas behind trend_key and the affinities.

ALTER TABLE users ADD COLUMN follower_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN following_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN post_count BIGINT NOT NULL DEFAULT 0;
-- Creator reputation inputs: views of their posts and weighted engagement on them.
ALTER TABLE users ADD COLUMN rep_views BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN rep_engagement BIGINT NOT NULL DEFAULT 0;

ALTER TABLE clips ADD COLUMN thumb_key TEXT;

CREATE TABLE posts (
    id              BIGINT PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    clip_id         BIGINT REFERENCES clips (id) ON DELETE SET NULL,
    title           TEXT NOT NULL,
    description     TEXT,
    game            TEXT,
    game_key        TEXT,
    tags            TEXT NOT NULL DEFAULT '[]',
    visibility      TEXT NOT NULL CHECK (visibility IN ('public', 'followers', 'private')),
    like_count      BIGINT NOT NULL DEFAULT 0,
    comment_count   BIGINT NOT NULL DEFAULT 0,
    share_count     BIGINT NOT NULL DEFAULT 0,
    view_count      BIGINT NOT NULL DEFAULT 0,
    complete_count  BIGINT NOT NULL DEFAULT 0,
    -- log2 of the exponentially decayed engagement, fixed point (see docs/feed.md).
    -- It only grows, so keyset pages over it never repeat a post.
    trend_key       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX posts_new_idx ON posts (visibility, id);
CREATE INDEX posts_user_idx ON posts (user_id, id);
CREATE INDEX posts_game_new_idx ON posts (game_key, visibility, id);
CREATE INDEX posts_trend_idx ON posts (visibility, trend_key, id);
CREATE INDEX posts_game_trend_idx ON posts (game_key, visibility, trend_key, id);
CREATE INDEX posts_clip_idx ON posts (clip_id);

CREATE TABLE follows (
    id          BIGINT PRIMARY KEY,
    follower_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX follows_pair_key ON follows (follower_id, followee_id);
CREATE INDEX follows_followee_idx ON follows (followee_id, id);
CREATE INDEX follows_follower_idx ON follows (follower_id, id);

CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id);

CREATE TABLE likes (
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX likes_user_idx ON likes (user_id);

CREATE TABLE shares (
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, user_id)
);

CREATE TABLE comments (
    id         BIGINT PRIMARY KEY,
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reply_to   BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    at_ms      BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_post_idx ON comments (post_id, reply_to, id);
CREATE INDEX comments_reply_idx ON comments (reply_to, id);

-- One row per viewer, post and 6-hour window: the dedup key for views.
-- viewer is "u<user id>" or "a<hash of address and agent>".
CREATE TABLE post_views (
    post_id   BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    viewer    TEXT NOT NULL,
    bucket    BIGINT NOT NULL,
    user_id   BIGINT,
    watched_ms BIGINT NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, viewer, bucket)
);
CREATE INDEX post_views_user_idx ON post_views (user_id, post_id);

CREATE TABLE post_hides (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, post_id)
);

-- Affinities: decayed-free running weights from likes, comments, shares,
-- completed watches and follows (docs/feed.md).
CREATE TABLE game_affinity (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    game_key TEXT NOT NULL,
    game     TEXT NOT NULL,
    weight   BIGINT NOT NULL,
    PRIMARY KEY (user_id, game_key)
);
CREATE TABLE creator_affinity (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    creator_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    weight     BIGINT NOT NULL,
    PRIMARY KEY (user_id, creator_id)
);

CREATE TABLE feed_prefs (
    user_id         BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    favourite_games TEXT NOT NULL DEFAULT '[]',
    hidden_games    TEXT NOT NULL DEFAULT '[]',
    hidden_creators TEXT NOT NULL DEFAULT '[]',
    freshness       INTEGER NOT NULL DEFAULT 50,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE notifications (
    id         BIGINT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('like', 'comment', 'reply', 'follow', 'mention')),
    actor_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id    BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    comment_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    read_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id, read_at);
