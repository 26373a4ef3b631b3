"""bench/peers/feed_fastapi.py — reference GET /api/v2/feed/new in FastAPI (see bench/feed/README.md).

The endpoint as it would have been written in the stack the platform was first
planned on: FastAPI on uvicorn, SQLite through the standard library. It reads
the database cosmiv seeded (read-only) and answers what cosmiv's /feed/new
answers, as closely as a small reference reasonably can:

    GET /api/v2/feed/new?limit=20&cursor=<last id>
    -> {"items": [post, ...], "next_cursor": "<id>" | null}

newest public posts first, keyset-paginated on posts.id (index posts_new_idx),
each joined to its author (users) and its clip (clips, when ready). The post
object has cosmiv's fields in cosmiv's order (docs/social-api.md), including
signed clip URLs (HMAC-SHA256 over the path and expiry, as auth_sign_path).
Differences from cosmiv: the cursor is the plain last id, not a signed opaque
token; a viewer is always anonymous (liked_by_me false, no block filtering).

Run (bench/feed/run.sh does this):

    COSMIV_PEER_DB=data/cosmiv.db /usr/bin/python3 -m uvicorn --app-dir bench/peers \
        feed_fastapi:app --host 127.0.0.1 --port 8000 --workers 2 \
        --loop uvloop --http httptools --log-level warning --no-access-log

Uses only Debian 12 packages: python3-fastapi, python3-uvicorn, and for the
default "fast" stack python3-uvloop + python3-httptools (BENCH_PEER_STACK=plain
runs uvicorn's asyncio + h11 instead). Choices and measured alternatives
(a `def` handler on the thread pool, a pydantic response_model): bench/feed/README.md.
"""

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import time
from typing import Optional

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import Response

DB_PATH = os.environ.get("COSMIV_PEER_DB", "data/cosmiv.db")
# Key for the signed clip URLs; any bytes do (nothing verifies them here).
SIGNING_KEY = os.environ.get("COSMIV_PEER_SIGNING_KEY", "bench-peer-signing-key").encode()
MEDIA_URL_TTL_S = 6 * 3600

# One connection per worker process. The handler is `async def` and runs
# the query on the event loop: the keyset page is an index range scan of a few
# hundred microseconds, cheaper than a hop to the thread pool (measured: the
# `def` + thread-local-connection variant does fewer requests/s). Read-only;
# a large page cache and mmap so that, as for cosmiv, a warm run reads from memory.
_conn: Optional[sqlite3.Connection] = None


def conn() -> sqlite3.Connection:
    global _conn
    if _conn is None:
        c = sqlite3.connect(f"file:{DB_PATH}?mode=ro", uri=True, check_same_thread=False,
                            cached_statements=64)
        c.execute("PRAGMA query_only=ON")
        c.execute("PRAGMA cache_size=-65536")  # 64 MiB
        c.execute("PRAGMA mmap_size=268435456")  # 256 MiB
        c.execute("PRAGMA temp_store=MEMORY")
        _conn = c
    return _conn


FEED_NEW_SQL = """
SELECT p.id, p.title, p.description, p.game, p.tags, p.visibility, p.created_at, p.updated_at,
       p.like_count, p.comment_count, p.share_count, p.view_count,
       u.id, u.username, u.display_name,
       c.id, c.duration_ms, c.width, c.height, c.thumb_key
FROM posts p
JOIN users u ON u.id = p.user_id
LEFT JOIN clips c ON c.id = p.clip_id AND c.status = 'ready'
WHERE p.visibility = 'public' AND p.id < ? AND u.disabled = 0
ORDER BY p.id DESC
LIMIT ?
"""


def iso_ms(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def signed_url(path: str) -> str:
    exp = (int(time.time()) // 3600 + 1) * 3600 + MEDIA_URL_TTL_S  # rounded, as cosmiv
    mac = hmac.new(SIGNING_KEY, f"media:{path}:{exp}".encode(), hashlib.sha256).digest()
    sig = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    return f"{path}?exp={exp}&sig={sig}"


def post_json(r: tuple) -> dict:
    (pid, title, desc, game, tags, vis, created, updated, likes, comments, shares, views,
     uid, username, display_name, cid, dur_ms, width, height, thumb_key) = r
    clip = None
    if cid is not None:
        base = f"/api/v2/clips/{cid}"
        clip = {
            "id": str(cid),
            "duration_s": dur_ms / 1000 if dur_ms is not None else None,
            "width": width,
            "height": height,
            "thumbnail_url": signed_url(base + "/thumbnail") if thumb_key else None,
            "playback_url": signed_url(base + "/file"),
        }
    return {
        "id": str(pid),
        "title": title,
        "description": desc,
        "game": game,
        "tags": json.loads(tags),
        "visibility": vis,
        "created_at": iso_ms(created),
        "updated_at": iso_ms(updated),
        "author": {
            "id": str(uid),
            "username": username,
            "display_name": display_name,
            "avatar_url": f"/api/v2/users/{username}/avatar.svg",
        },
        "clip": clip,
        "like_count": likes,
        "comment_count": comments,
        "share_count": shares,
        "view_count": views,
        "liked_by_me": False,
    }


app = FastAPI(title="cosmiv feed reference", docs_url=None, redoc_url=None, openapi_url=None)

PROBLEM = "application/problem+json"


@app.get("/api/v2/feed/new")
async def feed_new(limit: int = Query(20, ge=1, le=50), cursor: Optional[str] = None):
    before = 2**63 - 1
    if cursor:
        if not cursor.isdigit() or len(cursor) > 19:
            raise HTTPException(status_code=400, detail="invalid_cursor")
        before = int(cursor)
    rows = conn().execute(FEED_NEW_SQL, (before, limit)).fetchall()
    items = [post_json(r) for r in rows]
    body = {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}
    # Plain dicts serialised once, compact, like cosmiv's. Declaring pydantic
    # models as response_model (the textbook FastAPI way) validates and
    # re-encodes every field: measured ~7x fewer requests/s on this page.
    return Response(json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                    media_type="application/json")


@app.get("/readyz")
async def readyz():
    conn().execute("SELECT 1").fetchone()
    return Response(b'{"status":"ok"}', media_type="application/json")
