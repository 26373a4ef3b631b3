-- Clips exported from videos: a time range, an aspect preset and how to fill it.
CREATE TABLE clips (
    id           BIGINT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id     BIGINT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    highlight_id BIGINT,
    title        TEXT,
    status       TEXT NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
    job_id       BIGINT,
    aspect       TEXT NOT NULL CHECK (aspect IN ('16:9', '9:16', '1:1')),
    fill         TEXT NOT NULL DEFAULT 'crop' CHECK (fill IN ('crop', 'blur')),
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    watermark    INTEGER NOT NULL DEFAULT 0,
    duration_ms  BIGINT,
    width        INTEGER,
    height       INTEGER,
    copied       INTEGER,
    object_key   TEXT,
    error        TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX clips_user_idx ON clips (user_id, id);
CREATE INDEX clips_video_idx ON clips (video_id);
