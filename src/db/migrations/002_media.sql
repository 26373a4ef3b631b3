-- Media pipeline: the durable job queue, resumable uploads, videos and their
-- highlights. Durations and times inside media are integer milliseconds;
-- scores are integers in 0..1000 (portable, exact).

-- Plans decide the limits on uploads (see videos/plans.c).
ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro'));

CREATE TABLE jobs (
    id           BIGINT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    owner_id     BIGINT,
    state        TEXT NOT NULL DEFAULT 'available'
                 CHECK (state IN ('available', 'running', 'completed', 'retryable', 'discarded')),
    priority     INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    run_at       BIGINT NOT NULL,
    lease_until  BIGINT,
    worker       TEXT,
    progress     INTEGER NOT NULL DEFAULT 0,
    message      TEXT,
    error        TEXT,
    unique_key   TEXT,
    timings      TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key);
CREATE INDEX jobs_ready_idx ON jobs (state, priority, run_at);

-- tus uploads. The id is 128 random bits (hex): unguessable, not enumerable.
CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    length       BIGINT NOT NULL,
    offset_bytes BIGINT NOT NULL DEFAULT 0,
    filename     TEXT,
    filetype     TEXT,
    state        TEXT NOT NULL DEFAULT 'uploading' CHECK (state IN ('uploading', 'complete', 'consumed')),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX uploads_expiry_idx ON uploads (state, expires_at);

CREATE TABLE videos (
    id          BIGINT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    game        TEXT,
    status      TEXT NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
    job_id      BIGINT,
    sha256      TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL,
    duration_ms BIGINT,
    width       INTEGER,
    height      INTEGER,
    fps_milli   INTEGER,
    source_key  TEXT,
    web_key     TEXT,
    thumb_key   TEXT,
    error       TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX videos_user_idx ON videos (user_id, id);
CREATE INDEX videos_sha_idx ON videos (sha256, status);

CREATE TABLE highlights (
    id          BIGINT PRIMARY KEY,
    video_id    BIGINT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    rank        INTEGER NOT NULL,
    start_ms    BIGINT NOT NULL,
    end_ms      BIGINT NOT NULL,
    score_milli INTEGER NOT NULL,
    reasons     TEXT NOT NULL,
    model       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX highlights_video_idx ON highlights (video_id, rank);

CREATE TABLE highlight_feedback (
    highlight_id BIGINT NOT NULL REFERENCES highlights (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kept         INTEGER NOT NULL CHECK (kept IN (0, 1)),
    model        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (highlight_id, user_id)
);
