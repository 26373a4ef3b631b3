/*
 * gateway.c — the WebSocket gateway: one epoll loop over a listening socket,
 * every client socket, and an eventfd that wakes it for published events.
 *
 * Design
 *   conn_t     one TCP connection: the HTTP upgrade, then a ws_t (ws.h, on
 *              wslay's frame layer). An idle identified connection costs
 *              wslay's frame context (4.9 KiB), this struct and the session:
 *              no thread, and no buffers beyond what is queued.
 *   session_t  an identified user on this node. It outlives its connection
 *              for RESUME_WINDOW_MS; meanwhile dispatches keep filling its
 *              ring of the last RING_MAX events (shared, reference-counted
 *              payloads: a broadcast to 10k sessions renders its JSON once).
 *   indexes    community id → sessions (who may receive a community's
 *              events), user id → sessions (EV_USER, limits, presence).
 *   rules      community id → perm_cache_t, loaded on first need and dropped
 *              by events flagged EV_RELOAD_RULES, so a permission change is
 *              in force for the very event that announced it.
 *
 * Everything here runs on the loop thread except gateway_deliver() (any
 * thread: it appends to the inbox under a mutex and writes the eventfd).
 * Database reads (identify, resume, rule reloads) run on the loop thread with
 * its own connection; they are short and indexed.
 */
#include "gateway/gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha1.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/auth.h"
#include "communities/perms.h"
#include "communities/snapshot.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/util.h"
#include "gateway/events.h"
#include "gateway/presence.h"
#include "gateway/ws.h"
#include "http/metrics.h"

#define GW_PATH		     "/api/v2/gateway"
#define HANDSHAKE_MAX	     8192
#define IDENTIFY_TIMEOUT_MS  10000
#define HEARTBEAT_GRACE_MS   10000
#define CLOSE_LINGER_MS	     2000
#define SOCK_SNDBUF	     (64 << 10) /* SO_SNDBUF of a gateway socket (the kernel doubles it) */
#define RESUME_WINDOW_MS     120000
#define RING_MAX	     512
#define MAX_FRAME	     16384
#define RATE_WINDOW_MS	     60000
#define RATE_MAX_FRAMES	     120
#define TYPING_MIN_GAP_MS    2000
#define TYPING_FLOOD	     10 /* typing frames ignored for the gap before the socket is closed */
#define PRESENCE_MAX_MEMBERS 1000
#define FLUSH_EVERY	     8 /* events routed between flushes of the queued frames */

enum {
	CLOSE_TOO_BIG = 1009,
	CLOSE_UNKNOWN = 4000,
	CLOSE_UNKNOWN_OP = 4001,
	CLOSE_DECODE = 4002,
	CLOSE_NOT_AUTH = 4003,
	CLOSE_AUTH_FAILED = 4004,
	CLOSE_ALREADY_AUTH = 4005,
	CLOSE_RATE = 4008,
	CLOSE_TIMEOUT = 4009,
	CLOSE_TOO_MANY = 4010,
	CLOSE_SLOW = 4011,
	CLOSE_SHUTDOWN = 4012,
};

/* ==== small containers ==== */

/* int64 key → a vector of pointers (open addressing; key 0 is empty). */
typedef struct {
	int64_t key;
	void **v;
	int n, cap;
} bucket_t;

typedef struct {
	bucket_t *b;
	size_t cap, used;
} index_t;

static size_t mix(int64_t k)
{
	uint64_t x = (uint64_t)k * UINT64_C(0x9E3779B97F4A7C15);
	return (size_t)(x ^ (x >> 31));
}

static bucket_t *index_slot(index_t *ix, int64_t key)
{
	size_t i = mix(key) & (ix->cap - 1);
	while (ix->b[i].key != 0 && ix->b[i].key != key)
		i = (i + 1) & (ix->cap - 1);
	return &ix->b[i];
}

static bucket_t *index_find(index_t *ix, int64_t key)
{
	if (!ix->cap)
		return NULL;
	bucket_t *b = index_slot(ix, key);
	return b->key == key ? b : NULL;
}

static void index_grow(index_t *ix)
{
	bucket_t *old = ix->b;
	size_t oldcap = ix->cap;
	ix->cap = ix->cap ? ix->cap * 2 : 256;
	ix->b = xcalloc(ix->cap, sizeof *ix->b);
	ix->used = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key && old[i].n) {
			*index_slot(ix, old[i].key) = old[i];
			ix->used++;
		} else {
			free(old[i].v);
		}
	free(old);
}

static void index_add(index_t *ix, int64_t key, void *p)
{
	if ((ix->used + 1) * 2 > ix->cap)
		index_grow(ix);
	bucket_t *b = index_slot(ix, key);
	if (b->key == 0) {
		b->key = key;
		ix->used++;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 2;
		b->v = xrealloc(b->v, (size_t)b->cap * sizeof *b->v);
	}
	b->v[b->n++] = p;
}

/* Removes p (order is not kept). Emptied buckets stay as tombstones until the next grow. */
static void index_del(index_t *ix, int64_t key, void *p)
{
	bucket_t *b = index_find(ix, key);
	if (!b)
		return;
	for (int i = b->n - 1; i >= 0; i--)
		if (b->v[i] == p) {
			b->v[i] = b->v[--b->n];
			return;
		}
}

static void index_free(index_t *ix)
{
	for (size_t i = 0; i < ix->cap; i++)
		free(ix->b[i].v);
	free(ix->b);
	memset(ix, 0, sizeof *ix);
}

/* ==== payloads, sessions, connections ==== */

/* The shared tail of a dispatch frame: `"t":"TYPE","d":{…}}`. */
typedef struct {
	int refs;
	size_t len;
	char body[];
} payload_t;

static void payload_unref(payload_t *p)
{
	if (p && --p->refs == 0)
		free(p);
}

typedef struct {
	int64_t community_id;
	int64_t *roles;
	int nroles;
} membership_t;

struct conn;

typedef struct session {
	char id[33];
	int64_t key; /* first 8 bytes of the id, the sessions index key */
	int64_t user_id;
	char username[40];
	struct conn *conn; /* NULL while detached */
	int64_t detached_at;
	uint64_t seq;
	struct {
		uint64_t seq;
		payload_t *p;
	} * ring;
	int ring_cap, ring_start, ring_n;
	membership_t *comms;
	int ncomms;
	presence_t status;
	int64_t presence_refreshed;
	struct session *next, *prev; /* all sessions */
} session_t;

enum { C_HANDSHAKE, C_OPEN, C_CLOSING };

typedef struct conn {
	int fd;
	int state;
	bool out_armed;
	bool dirty; /* has queued frames to flush */
	char *hs;   /* the HTTP request while upgrading */
	size_t hslen;
	bool upgraded; /* ws is initialised */
	ws_t ws;
	session_t *sess;
	int64_t opened_at, last_seen, closing_at;
	int64_t win_start, typing_at;
	int win_frames, typing_ignored;
	int close_code;		  /* the code this side closed with (0: none) */
	bool slow;		  /* a parallel fan-out found its send queue full */
	struct conn *next, *prev; /* all connections */
	struct conn *dirty_next;  /* the flush list */
} conn_t;

/* The loop's state: owned by the loop thread after gateway_start. */
static struct {
	gateway_config_t cfg;
	char *listen, *url;
	db_t *db;
	int lfd, efd, epfd;
	pthread_t thread;
	atomic_bool stop;
	bool running;

	conn_t *conns;
	session_t *sessions;
	conn_t *dirty;
	index_t by_community, by_user, by_key, rules;
	int nconns;

	pthread_mutex_t inbox_mu;
	struct inbox_item {
		struct inbox_item *next;
		size_t len;
		char data[];
	} * inbox_head, **inbox_tail;

	struct pending_offline {
		int64_t user_id, at;
	} * pending;
	int npending, cap_pending;

	buf_t scratch;
	size_t send_queue_max; /* bytes */
} gw;

static int64_t now(void)
{
	return time_now_ms();
}

/* ==== sending ==== */

static void arm(conn_t *c)
{
	bool want = c->upgraded && ws_pending(&c->ws) > 0;
	if (want == c->out_armed)
		return;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(gw.epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->out_armed = want;
}

static void mark_dirty(conn_t *c)
{
	if (!c->dirty) {
		c->dirty = true;
		c->dirty_next = gw.dirty;
		gw.dirty = c;
	}
}

static void close_with(conn_t *c, int code, const char *reason)
{
	if (c->state != C_OPEN)
		return;
	c->state = C_CLOSING;
	c->closing_at = now();
	ws_send_close(&c->ws, code, reason);
	c->close_code = code;
	mark_dirty(c);
}

/* A client that does not read: its close frame goes out behind what is queued. */
static void close_slow(conn_t *c)
{
	char uid[24], queued[24];
	snprintf(uid, sizeof uid, "%lld", c->sess ? (long long)c->sess->user_id : 0LL);
	snprintf(queued, sizeof queued, "%zu", ws_pending(&c->ws));
	log_info("gateway: slow consumer closed", "user_id", uid, "queued_bytes", queued, NULL);
	close_with(c, CLOSE_SLOW, "slow_consumer");
}

static void queue_text(conn_t *c, const char *s, size_t n)
{
	if (c->state != C_OPEN)
		return;
	if (!ws_send_text(&c->ws, s, n, gw.send_queue_max)) {
		close_slow(c);
		return;
	}
	if (ws_pending(&c->ws) || c->ws.broken)
		mark_dirty(c); /* to wait for the socket, or to be cleaned up */
}

static void queue_json(conn_t *c, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s) {
		queue_text(c, s, strlen(s));
		free(s);
	}
}

/* The dispatch frame's text: `{"op":"dispatch","s":SEQ,` and the payload. */
static void frame_dispatch(buf_t *b, uint64_t seq, const payload_t *p)
{
	b->len = 0;
	char head[64];
	int n = snprintf(head, sizeof head, "{\"op\":\"dispatch\",\"s\":%llu,", (unsigned long long)seq);
	buf_append(b, head, (size_t)n);
	buf_append(b, p->body, p->len);
}

/* The frame, queued: the loop flushes after each few events, so a burst reaches a connection in one
 * write. */
static void send_dispatch(conn_t *c, uint64_t seq, const payload_t *p)
{
	if (c->state != C_OPEN)
		return;
	buf_t *b = &gw.scratch;
	frame_dispatch(b, seq, p);
	if (!ws_queue_text(&c->ws, b->data, b->len, gw.send_queue_max)) {
		close_slow(c);
		return;
	}
	mark_dirty(c);
}

/* ==== sessions ==== */

/*
 * Keeps p in the session's resume buffer under the next sequence number and
 * returns that number. The payload the full buffer drops is returned through
 * *dropped (the caller unrefs it); the caller also counts the new reference.
 */
static uint64_t ring_store(session_t *s, payload_t *p, payload_t **dropped)
{
	uint64_t seq = ++s->seq;
	*dropped = NULL;
	if (s->ring_n == s->ring_cap && s->ring_cap < RING_MAX) {
		/* grow, unrolling the ring so it starts at 0 */
		int cap = s->ring_cap ? s->ring_cap * 2 : 8;
		if (cap > RING_MAX)
			cap = RING_MAX;
		__typeof__(s->ring) r = xcalloc((size_t)cap, sizeof *r);
		for (int i = 0; i < s->ring_n; i++)
			r[i] = s->ring[(s->ring_start + i) % s->ring_cap];
		free(s->ring);
		s->ring = r;
		s->ring_cap = cap;
		s->ring_start = 0;
	}
	if (s->ring_n == s->ring_cap) { /* full at RING_MAX: drop the oldest */
		*dropped = s->ring[s->ring_start].p;
		s->ring[s->ring_start].seq = seq;
		s->ring[s->ring_start].p = p;
		s->ring_start = (s->ring_start + 1) % s->ring_cap;
	} else {
		int at = (s->ring_start + s->ring_n) % s->ring_cap;
		s->ring[at].seq = seq;
		s->ring[at].p = p;
		s->ring_n++;
	}
	return seq;
}

static void ring_push(session_t *s, payload_t *p)
{
	payload_t *dropped;
	uint64_t seq = ring_store(s, p, &dropped);
	payload_unref(dropped);
	p->refs++;
	if (s->conn)
		send_dispatch(s->conn, seq, p);
}

static void memberships_free(session_t *s)
{
	for (int i = 0; i < s->ncomms; i++) {
		index_del(&gw.by_community, s->comms[i].community_id, s);
		free(s->comms[i].roles);
	}
	free(s->comms);
	s->comms = NULL;
	s->ncomms = 0;
}

/* (Re)reads the user's communities and roles and re-subscribes the session. */
static bool memberships_load(session_t *s, db_conn_t *dc)
{
	int64_t *cids, *rids;
	int n;
	err_t e = {0};
	if (!perm_member_roles(dc, s->user_id, &cids, &rids, &n, &e)) {
		log_warn("gateway: memberships not loaded", "detail", e.detail, NULL);
		return false;
	}
	memberships_free(s);
	s->comms = xcalloc((size_t)n + 1, sizeof *s->comms);
	for (int i = 0; i < n; i++) {
		membership_t *m = s->ncomms ? &s->comms[s->ncomms - 1] : NULL;
		if (!m || m->community_id != cids[i]) {
			m = &s->comms[s->ncomms++];
			m->community_id = cids[i];
			index_add(&gw.by_community, cids[i], s);
		}
		if (rids[i]) {
			m->roles = xrealloc(m->roles, (size_t)(m->nroles + 1) * sizeof *m->roles);
			m->roles[m->nroles++] = rids[i];
		}
	}
	free(cids);
	free(rids);
	return true;
}

static membership_t *membership(session_t *s, int64_t community_id)
{
	for (int i = 0; i < s->ncomms; i++)
		if (s->comms[i].community_id == community_id)
			return &s->comms[i];
	return NULL;
}

static int attached_sessions(int64_t user_id)
{
	bucket_t *b = index_find(&gw.by_user, user_id);
	int n = 0;
	for (int i = 0; b && i < b->n; i++)
		n += ((session_t *)b->v[i])->conn != NULL;
	return n;
}

static void session_destroy(session_t *s)
{
	memberships_free(s);
	index_del(&gw.by_user, s->user_id, s);
	index_del(&gw.by_key, s->key, s);
	for (int i = 0; i < s->ring_n; i++)
		payload_unref(s->ring[(s->ring_start + i) % s->ring_cap].p);
	free(s->ring);
	if (s->prev)
		s->prev->next = s->next;
	else
		gw.sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

static session_t *session_find(const char *id)
{
	if (!id || strlen(id) != 32)
		return NULL;
	int64_t key = 0;
	for (int i = 0; i < 16; i++) {
		int v = id[i] >= '0' && id[i] <= '9'   ? id[i] - '0'
			: id[i] >= 'a' && id[i] <= 'f' ? id[i] - 'a' + 10
						       : -1;
		if (v < 0)
			return NULL;
		key = (int64_t)(((uint64_t)key << 4) | (uint64_t)v);
	}
	bucket_t *b = index_find(&gw.by_key, key ? key : 1);
	for (int i = 0; b && i < b->n; i++) {
		session_t *s = b->v[i];
		if (sodium_memcmp(s->id, id, 32) == 0)
			return s;
	}
	return NULL;
}

/* ==== presence ==== */

static int presence_ttl_s(void)
{
	return gw.cfg.heartbeat_ms * 2 / 1000 + gw.cfg.presence_grace_s + 10;
}

static void presence_announce(int64_t user_id, presence_t p)
{
	db_conn_t *dc = db_thread_conn(gw.db, &(err_t){0});
	int64_t *ids = NULL;
	int n = 0;
	err_t e = {0};
	if (!dc || !snapshot_presence_communities(dc, user_id, PRESENCE_MAX_MEMBERS, &ids, &n, &e))
		return;
	for (int i = 0; i < n; i++) {
		event_t ev = {.type = "PRESENCE_UPDATE", .scope = EV_COMMUNITY, .community_id = ids[i]};
		events_publish(
		    &ev, json_pack("{s:o, s:s}", "user_id", jx_id(user_id), "status", presence_name(p)));
	}
	free(ids);
}

/* The best status among the user's attached sessions on this node. */
static presence_t user_status(int64_t user_id)
{
	presence_t best = PRESENCE_OFFLINE;
	bucket_t *b = index_find(&gw.by_user, user_id);
	for (int i = 0; b && i < b->n; i++) {
		session_t *o = b->v[i];
		if (!o->conn)
			continue;
		if (o->status == PRESENCE_ONLINE)
			return PRESENCE_ONLINE;
		if (o->status == PRESENCE_IDLE)
			best = PRESENCE_IDLE;
	}
	return best;
}

/* Drops a pending "offline" of the user; true when there was one (they never looked offline). */
static bool pending_offline_cancel(int64_t user_id)
{
	bool had = false;
	for (int i = 0; i < gw.npending; i++)
		if (gw.pending[i].user_id == user_id) {
			gw.pending[i--] = gw.pending[--gw.npending];
			had = true;
		}
	return had;
}

static void presence_change(session_t *s, presence_t p)
{
	presence_t before = user_status(s->user_id);
	if (pending_offline_cancel(s->user_id) && before == PRESENCE_OFFLINE)
		before = PRESENCE_ONLINE;
	s->status = p;
	presence_t after = user_status(s->user_id);
	presence_set(s->user_id, after, presence_ttl_s());
	s->presence_refreshed = now();
	if (after != before)
		presence_announce(s->user_id, after);
}

static void pending_offline_add(int64_t user_id)
{
	if (gw.npending == gw.cap_pending) {
		gw.cap_pending = gw.cap_pending ? gw.cap_pending * 2 : 64;
		gw.pending = xrealloc(gw.pending, (size_t)gw.cap_pending * sizeof *gw.pending);
	}
	gw.pending[gw.npending].user_id = user_id;
	gw.pending[gw.npending].at = now() + (int64_t)gw.cfg.presence_grace_s * 1000;
	gw.npending++;
}

/* ==== connections ==== */

static void conn_destroy(conn_t *c)
{
	epoll_ctl(gw.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->fd >= 0)
		close(c->fd);
	if (c->upgraded)
		ws_free(&c->ws);
	free(c->hs);
	if (c->sess) {
		session_t *s = c->sess;
		s->conn = NULL;
		s->detached_at = now();
		if (attached_sessions(s->user_id) == 0)
			pending_offline_add(s->user_id);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		gw.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* Unlink from the flush list. */
	for (conn_t **p = &gw.dirty; *p; p = &(*p)->dirty_next)
		if (*p == c) {
			*p = c->dirty_next;
			break;
		}
	gw.nconns--;
	free(c);
}

static void on_frame(conn_t *c, const char *msg, size_t len);

static void on_message(void *ud, int opcode, const char *data, size_t len)
{
	conn_t *c = ud;
	c->last_seen = now();
	if (c->state != C_OPEN)
		return;
	if (opcode != WSLAY_TEXT_FRAME) {
		close_with(c, CLOSE_DECODE, "decode_error: text frames only");
		return;
	}
	on_frame(c, data, len);
}

/* Writes what is queued; destroys the connection when it is done or broken. */
static void conn_flush(conn_t *c)
{
	if (!c->upgraded)
		return;
	if (ws_flush(&c->ws) != WS_OK || ws_done(&c->ws)) {
		conn_destroy(c);
		return;
	}
	arm(c);
}

/*
 * Large fan-outs use both cores: the loop and a helper thread share the
 * connections, taking SPLIT_CHUNK of them at a time. Two jobs are split this
 * way: writing the frames a burst queued (flush_half) and routing one event to
 * the members of a large community (fanout_half, in route). One message to 10,000 members is 10,000
 * send() calls, and on loopback each also pays for the receiver's wake-up.
 * A chunk touches only its own sessions and connections; whatever needs the
 * loop's lists (the flush list, destroying, closing) the loop does once all
 * chunks are done.
 */
typedef void (*half_fn)(void *job, int part, int lo, int hi);

#define SPLIT_CHUNK 128 /* connections a thread takes at a time */

static struct {
	pthread_t thread;
	bool started, busy, quit;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	half_fn fn; /* the job both threads work on: fn(job, part, lo, hi) over [0, n) */
	void *job;
	int n;
	atomic_int next; /* the next chunk's start: a descheduled thread leaves its work to the other */
	conn_t **all;	 /* flush_dirty's list */
	int cap;
} fl = {.mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static void run_chunks(int part)
{
	for (;;) {
		int lo = atomic_fetch_add(&fl.next, SPLIT_CHUNK);
		if (lo >= fl.n)
			break;
		fl.fn(fl.job, part, lo, lo + SPLIT_CHUNK < fl.n ? lo + SPLIT_CHUNK : fl.n);
	}
}

static void *helper(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fl.mu);
	for (;;) {
		while (!fl.busy && !fl.quit)
			pthread_cond_wait(&fl.go, &fl.mu);
		if (fl.quit)
			break;
		pthread_mutex_unlock(&fl.mu);
		run_chunks(1);
		pthread_mutex_lock(&fl.mu);
		fl.busy = false;
		pthread_cond_signal(&fl.done);
	}
	pthread_mutex_unlock(&fl.mu);
	return NULL;
}

/* fn over [0, n) in chunks, by this thread (part 0) and the helper (part 1). */
static void split_run(half_fn fn, void *job, int n)
{
	pthread_mutex_lock(&fl.mu);
	fl.fn = fn;
	fl.job = job;
	fl.n = n;
	atomic_store(&fl.next, 0);
	fl.busy = true;
	pthread_cond_signal(&fl.go);
	pthread_mutex_unlock(&fl.mu);
	run_chunks(0);
	pthread_mutex_lock(&fl.mu);
	while (fl.busy)
		pthread_cond_wait(&fl.done, &fl.mu);
	pthread_mutex_unlock(&fl.mu);
}

static void flush_half(void *job, int part, int lo, int hi)
{
	(void)job;
	(void)part;
	for (int i = lo; i < hi; i++)
		if (fl.all[i]->upgraded)
			ws_flush(&fl.all[i]->ws);
}

static void flush_dirty(void)
{
	int n = 0;
	while (gw.dirty) {
		conn_t *c = gw.dirty;
		gw.dirty = c->dirty_next;
		c->dirty = false;
		c->dirty_next = NULL;
		if (n == fl.cap) {
			fl.cap = fl.cap ? fl.cap * 2 : 1024;
			fl.all = xrealloc(fl.all, (size_t)fl.cap * sizeof *fl.all);
		}
		fl.all[n++] = c;
	}
	if (n < gw.cfg.flush_split || !fl.started) {
		for (int i = 0; i < n; i++)
			conn_flush(fl.all[i]);
		return;
	}
	split_run(flush_half, NULL, n);
	for (int i = 0; i < n; i++) { /* now arm or destroy, on the loop thread */
		conn_t *c = fl.all[i];
		if (!c->upgraded)
			continue;
		if (c->ws.broken || ws_done(&c->ws))
			conn_destroy(c);
		else
			arm(c);
	}
}

/* ==== the HTTP upgrade ==== */

/* The value of header `name` (case-insensitive) in the raw request, copied into out. */
static bool header(const char *req, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(req, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *h = p + 2;
		if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			const char *v = h + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			const char *end = strstr(v, "\r\n");
			size_t n = end ? (size_t)(end - v) : strlen(v);
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= outsz)
				return false;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

static bool has_token(const char *list, const char *tok)
{
	size_t tl = strlen(tok);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && t[-1] == ' ')
			t--;
		if ((size_t)(t - p) == tl && strncasecmp(p, tok, tl) == 0)
			return true;
		p = e;
	}
	return false;
}

static void http_refuse(conn_t *c, int status, const char *reason)
{
	char resp[512];
	int n = snprintf(resp, sizeof resp,
			 "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nConnection: close\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 status,
			 status == 404	 ? "Not Found"
			 : status == 426 ? "Upgrade Required"
					 : "Bad Request",
			 strlen(reason), reason);
	ssize_t w = send(c->fd, resp, (size_t)n, MSG_NOSIGNAL);
	(void)w;
	conn_destroy(c);
}

static void send_hello(conn_t *c)
{
	char m[96];
	int n = snprintf(m, sizeof m, "{\"op\":\"hello\",\"d\":{\"heartbeat_interval_ms\":%d}}",
			 gw.cfg.heartbeat_ms);
	queue_text(c, m, (size_t)n);
}

/* Parses the upgrade request; answers 101 and starts the WebSocket, or refuses. */
static void handshake(conn_t *c)
{
	const char *req = c->hs;
	if (strncmp(req, "GET ", 4) != 0)
		return http_refuse(c, 400, "{\"code\":\"bad_request\",\"detail\":\"expected GET\"}");
	const char *path = req + 4;
	size_t plen = strcspn(path, " ?");
	if (plen != strlen(GW_PATH) || strncmp(path, GW_PATH, plen) != 0)
		return http_refuse(c, 404,
				   "{\"code\":\"not_found\",\"detail\":\"the gateway is at " GW_PATH "\"}");
	char upgrade[64], connection[256], key[64], version[8];
	if (!header(req, "Upgrade", upgrade, sizeof upgrade) || strcasecmp(upgrade, "websocket") != 0 ||
	    !header(req, "Connection", connection, sizeof connection) || !has_token(connection, "upgrade"))
		return http_refuse(
		    c, 426,
		    "{\"code\":\"upgrade_required\",\"detail\":\"connect with a WebSocket client; "
		    "GET /api/v2/gateway on the HTTP port says where\"}");
	if (!header(req, "Sec-WebSocket-Version", version, sizeof version) || strcmp(version, "13") != 0)
		return http_refuse(
		    c, 426, "{\"code\":\"bad_version\",\"detail\":\"Sec-WebSocket-Version must be 13\"}");
	unsigned char raw[32];
	size_t rawlen = 0;
	if (!header(req, "Sec-WebSocket-Key", key, sizeof key) ||
	    sodium_base642bin(raw, sizeof raw, key, strlen(key), NULL, &rawlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    rawlen != 16)
		return http_refuse(
		    c, 400,
		    "{\"code\":\"bad_key\",\"detail\":\"Sec-WebSocket-Key is missing or malformed\"}");

	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	struct sha1_ctx sh;
	uint8_t digest[SHA1_DIGEST_SIZE];
	sha1_init(&sh);
	sha1_update(&sh, strlen(key), (const uint8_t *)key);
	sha1_update(&sh, sizeof guid - 1, (const uint8_t *)guid);
	sha1_digest(&sh, sizeof digest, digest);
	char accept[64];
	sodium_bin2base64(accept, sizeof accept, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
	char resp[256];
	int n = snprintf(resp, sizeof resp,
			 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\n\r\n",
			 accept);
	if (send(c->fd, resp, (size_t)n, MSG_NOSIGNAL) != n) {
		conn_destroy(c);
		return;
	}
	free(c->hs);
	c->hs = NULL;
	c->hslen = 0;
	if (!ws_init(&c->ws, c->fd, MAX_FRAME)) {
		conn_destroy(c);
		return;
	}
	c->upgraded = true;
	c->state = C_OPEN;
	c->last_seen = now();
	send_hello(c);
}

static void handshake_read(conn_t *c)
{
	if (!c->hs)
		c->hs = xmalloc(HANDSHAKE_MAX + 1);
	ssize_t r = recv(c->fd, c->hs + c->hslen, HANDSHAKE_MAX - c->hslen, 0);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		conn_destroy(c);
		return;
	}
	if (r < 0)
		return;
	c->hslen += (size_t)r;
	c->hs[c->hslen] = '\0';
	if (strstr(c->hs, "\r\n\r\n")) {
		handshake(c);
		return;
	}
	if (c->hslen >= HANDSHAKE_MAX)
		http_refuse(c, 400, "{\"code\":\"bad_request\",\"detail\":\"request headers too large\"}");
}

static void accept_all(void)
{
	for (;;) {
		int fd = accept4(gw.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_warn("gateway: out of file descriptors", NULL);
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		/* A fixed kernel send buffer: autotuning would let each socket of a client
		 * that does not read hold up to tcp_wmem's 4 MiB before our own bound
		 * (send_queue_max) even sees it. Gateway frames are small. */
		int sndbuf = SOCK_SNDBUF;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
		conn_t *c = xcalloc(1, sizeof *c);
		c->fd = fd;
		c->state = C_HANDSHAKE;
		c->opened_at = c->last_seen = now();
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
		if (epoll_ctl(gw.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = gw.conns;
		if (gw.conns)
			gw.conns->prev = c;
		gw.conns = c;
		gw.nconns++;
	}
}

/* ==== the protocol ==== */

static bool rate_ok(conn_t *c)
{
	int64_t t = now();
	if (t - c->win_start > RATE_WINDOW_MS) {
		c->win_start = t;
		c->win_frames = 0;
	}
	if (++c->win_frames > RATE_MAX_FRAMES) {
		close_with(c, CLOSE_RATE, "rate_limited");
		return false;
	}
	return true;
}

static json_t *user_json(const user_t *u)
{
	char avatar[96];
	snprintf(avatar, sizeof avatar, "/api/v2/users/%s/avatar.svg", u->username);
	return json_pack("{s:o, s:s, s:s, s:s}", "id", jx_id(u->id), "username", u->username, "display_name",
			 u->has_display_name ? u->display_name : u->username, "avatar_url", avatar);
}

/* Verifies the token: the principal, or closes with 4004 and returns false. */
static bool authenticate(conn_t *c, const char *token, auth_principal_t *p)
{
	err_t e = {0};
	if (!gw.db) { /* the fuzz harness: no database, no valid token */
		close_with(c, CLOSE_AUTH_FAILED, "authentication_failed");
		return false;
	}
	db_conn_t *dc = db_thread_conn(gw.db, &e);
	if (!dc) {
		close_with(c, CLOSE_UNKNOWN, "unknown_error: database unavailable");
		return false;
	}
	if (!token || !auth_authenticate(dc, token, p, &e)) {
		if (e.kind == ERR_INTERNAL || e.kind == ERR_UNAVAILABLE)
			close_with(c, CLOSE_UNKNOWN, "unknown_error");
		else
			close_with(c, CLOSE_AUTH_FAILED, "authentication_failed");
		return false;
	}
	return true;
}

static void op_identify(conn_t *c, json_t *d)
{
	if (c->sess) {
		close_with(c, CLOSE_ALREADY_AUTH, "already_authenticated");
		return;
	}
	json_t *tok = json_object_get(d, "token");
	if (!json_is_string(tok)) {
		close_with(c, CLOSE_DECODE, "decode_error: d.token must be a string");
		return;
	}
	auth_principal_t p;
	if (!authenticate(c, json_string_value(tok), &p))
		return;
	if (attached_sessions(p.user.id) >= gw.cfg.max_per_user) {
		close_with(c, CLOSE_TOO_MANY, "too_many_connections");
		return;
	}
	err_t e = {0};
	db_conn_t *dc = db_thread_conn(gw.db, &e);
	json_t *comms = NULL;
	if (!dc || !snapshot_communities(dc, p.user.id, &comms, &e)) {
		close_with(c, CLOSE_UNKNOWN, "unknown_error");
		return;
	}
	session_t *s = xcalloc(1, sizeof *s);
	unsigned char rnd[16];
	do {
		randombytes_buf(rnd, sizeof rnd);
		sodium_bin2hex(s->id, sizeof s->id, rnd, sizeof rnd);
		s->key = 0;
		for (int i = 0; i < 8; i++)
			s->key = (int64_t)(((uint64_t)s->key << 8) | rnd[i]);
	} while (s->key == 0);
	s->user_id = p.user.id;
	str_copy(s->username, sizeof s->username, p.user.username);
	if (!memberships_load(s, dc)) {
		free(s);
		json_decref(comms);
		close_with(c, CLOSE_UNKNOWN, "unknown_error");
		return;
	}
	index_add(&gw.by_user, s->user_id, s);
	index_add(&gw.by_key, s->key, s);
	s->next = gw.sessions;
	if (gw.sessions)
		gw.sessions->prev = s;
	gw.sessions = s;
	s->conn = c;
	c->sess = s;
	queue_json(c, json_pack("{s:s, s:{s:s, s:o, s:o}}", "op", "ready", "d", "session_id", s->id, "user",
				user_json(&p.user), "communities", comms));
	presence_change(s, PRESENCE_ONLINE);
}

static void op_resume(conn_t *c, json_t *d)
{
	if (c->sess) {
		close_with(c, CLOSE_ALREADY_AUTH, "already_authenticated");
		return;
	}
	json_t *tok = json_object_get(d, "token"), *sid = json_object_get(d, "session_id"),
	       *seq = json_object_get(d, "seq");
	if (!json_is_string(tok) || !json_is_string(sid) || !json_is_integer(seq) ||
	    json_integer_value(seq) < 0) {
		close_with(c, CLOSE_DECODE, "decode_error: resume needs d.token, d.session_id and d.seq");
		return;
	}
	auth_principal_t p;
	if (!authenticate(c, json_string_value(tok), &p))
		return;
	session_t *s = session_find(json_string_value(sid));
	uint64_t last = (uint64_t)json_integer_value(seq);
	/* Someone else's session, a gone one, or a gap the ring no longer covers. */
	uint64_t oldest = s && s->ring_n ? s->ring[s->ring_start].seq : s ? s->seq + 1 : 0;
	if (!s || s->user_id != p.user.id || last > s->seq || last + 1 < oldest) {
		queue_json(c,
			   json_pack("{s:s, s:{s:s}}", "op", "invalid_session", "d", "reason",
				     !s || s->user_id != p.user.id ? "unknown session" : "events were lost"));
		return;
	}
	if (s->conn) /* the old socket has not noticed it is dead yet */
		close_with(s->conn, CLOSE_UNKNOWN, "session resumed elsewhere");
	if (s->conn) {
		s->conn->sess = NULL;
		s->conn = NULL;
	}
	s->conn = c;
	c->sess = s;
	int replayed = 0;
	for (int i = 0; i < s->ring_n; i++) {
		int at = (s->ring_start + i) % s->ring_cap;
		if (s->ring[at].seq > last) {
			send_dispatch(c, s->ring[at].seq, s->ring[at].p);
			replayed++;
		}
	}
	queue_json(c, json_pack("{s:s, s:{s:s, s:i}}", "op", "resumed", "d", "session_id", s->id, "replayed",
				replayed));
	presence_change(s, s->status == PRESENCE_OFFLINE ? PRESENCE_ONLINE : s->status);
}

static perm_cache_t *rules(int64_t community_id)
{
	bucket_t *b = index_find(&gw.rules, community_id);
	if (b && b->n)
		return b->v[0];
	err_t e = {0};
	db_conn_t *dc = db_thread_conn(gw.db, &e);
	if (!dc)
		return NULL;
	perm_cache_t *pc = xcalloc(1, sizeof *pc);
	if (!perm_cache_load(dc, community_id, pc, &e)) {
		free(pc);
		return NULL;
	}
	index_add(&gw.rules, community_id, pc);
	return pc;
}

static void rules_drop(int64_t community_id)
{
	bucket_t *b = index_find(&gw.rules, community_id);
	if (b && b->n) {
		perm_cache_free(b->v[0]);
		free(b->v[0]);
		b->n = 0;
	}
}

/* The session's permissions in a channel of a community (0: none, or not a member). */
static perm_t channel_perms(session_t *s, int64_t community_id, int64_t channel_id)
{
	membership_t *m = membership(s, community_id);
	if (!m)
		return 0;
	perm_cache_t *pc = rules(community_id);
	if (!pc)
		return 0;
	return perm_cache_channel(pc, s->user_id, m->roles, m->nroles, channel_id);
}

static void op_typing(conn_t *c, json_t *d)
{
	json_t *ch = json_object_get(d, "channel_id");
	int64_t channel_id = 0;
	if (!json_is_string(ch) || !parse_i64(json_string_value(ch), &channel_id) || channel_id <= 0) {
		close_with(c, CLOSE_DECODE, "decode_error: d.channel_id must be an id string");
		return;
	}
	int64_t t = now();
	if (t - c->typing_at < TYPING_MIN_GAP_MS) {
		if (++c->typing_ignored > TYPING_FLOOD)
			close_with(c, CLOSE_RATE, "rate_limited: typing");
		return;
	}
	c->typing_ignored = 0;
	c->typing_at = t;
	session_t *s = c->sess;
	for (int i = 0; i < s->ncomms; i++) {
		perm_t p = channel_perms(s, s->comms[i].community_id, channel_id);
		if (!p)
			continue;
		if (!(p & PERM_SEND_MESSAGES))
			return; /* may look, may not type: nothing to announce */
		event_t ev = {.type = "TYPING_START",
			      .scope = EV_CHANNEL,
			      .community_id = s->comms[i].community_id,
			      .channel_id = channel_id,
			      .exclude_user_id = s->user_id};
		events_publish(&ev, json_pack("{s:o, s:o, s:o, s:s}", "channel_id", jx_id(channel_id),
					      "community_id", jx_id(s->comms[i].community_id), "user_id",
					      jx_id(s->user_id), "username", s->username));
		return;
	}
	/* A channel the user cannot see: ignored, as if it did not exist. */
}

static void op_presence(conn_t *c, json_t *d)
{
	const char *st = json_string_value(json_object_get(d, "status"));
	if (!st || (strcmp(st, "online") != 0 && strcmp(st, "idle") != 0)) {
		close_with(c, CLOSE_DECODE, "decode_error: d.status must be \"online\" or \"idle\"");
		return;
	}
	presence_change(c->sess, st[0] == 'i' ? PRESENCE_IDLE : PRESENCE_ONLINE);
}

/* One text frame from a client. */
static void on_frame(conn_t *c, const char *msg, size_t len)
{
	if (!rate_ok(c))
		return;
	json_error_t je;
	json_t *o = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		close_with(c, CLOSE_DECODE, "decode_error: a frame is one JSON object");
		return;
	}
	const char *op = json_string_value(json_object_get(o, "op"));
	json_t *d = json_object_get(o, "d");
	if (!op) {
		close_with(c, CLOSE_DECODE, "decode_error: op must be a string");
	} else if (strcmp(op, "heartbeat") == 0) {
		queue_text(c, "{\"op\":\"heartbeat_ack\"}", 22);
		session_t *s = c->sess;
		if (s && now() - s->presence_refreshed > gw.cfg.heartbeat_ms / 2) {
			presence_set(s->user_id, s->status, presence_ttl_s());
			s->presence_refreshed = now();
		}
	} else if (strcmp(op, "identify") != 0 && strcmp(op, "resume") != 0 && strcmp(op, "typing") != 0 &&
		   strcmp(op, "presence") != 0) {
		close_with(c, CLOSE_UNKNOWN_OP, "unknown_op");
	} else if (d && !json_is_object(d)) {
		close_with(c, CLOSE_DECODE, "decode_error: d must be an object");
	} else if (strcmp(op, "identify") == 0) {
		op_identify(c, d);
	} else if (strcmp(op, "resume") == 0) {
		op_resume(c, d);
	} else if (!c->sess) {
		close_with(c, CLOSE_NOT_AUTH, "not_authenticated");
	} else if (strcmp(op, "typing") == 0) {
		op_typing(c, d);
	} else {
		op_presence(c, d);
	}
	json_decref(o);
}

/* ==== events ==== */

/* `"t":"TYPE","d":{…}}`, the tail every dispatch frame of this event shares. */
static payload_t *payload_make(const char *type, json_t *d)
{
	char *dj = json_dumps(d, JSON_COMPACT);
	size_t tl = strlen(type), dl = dj ? strlen(dj) : 0;
	payload_t *p = xmalloc(sizeof *p + tl + dl + 16);
	p->refs = 1;
	p->len = (size_t)snprintf(p->body, tl + dl + 16, "\"t\":\"%s\",\"d\":%s}", type, dj ? dj : "{}");
	free(dj);
	return p;
}

static bool session_can_view(session_t *s, const perm_cache_t *pc, int64_t community_id, int64_t channel_id)
{
	membership_t *m = membership(s, community_id);
	return m && (perm_cache_channel(pc, s->user_id, m->roles, m->nroles, channel_id) & PERM_VIEW_CHANNEL);
}

static void deliver_to(session_t *s, payload_t *p, int64_t exclude)
{
	if (s->user_id != exclude)
		ring_push(s, p);
}

/*
 * One event to the sessions of a large community, on both threads (split_run):
 * the permission check, the resume buffer, the frame and, when no other event
 * waits behind this one, the send itself, so that the first members receive
 * it while the rest are still being routed. With events waiting, frames are
 * queued and leave together at the next flush (fewer, larger writes).
 */
typedef struct {
	void **v;		/* the community's sessions (bucket_t) */
	const perm_cache_t *pc; /* EV_CHANNEL: the community's rules */
	payload_t *p;
	int64_t cid, chid, exclude;
	bool channel, direct;
} fanout_t;

/* What each thread leaves for the loop: owned by the gateway, reused from event to event. */
static struct fanout_out {
	int refs;	  /* resume-buffer references taken on the payload */
	conn_t **touched; /* connections with queued frames, broken, or slow */
	int ntouched, cap_touched;
	payload_t **dropped; /* payloads full resume buffers let go of */
	int ndropped, cap_dropped;
	buf_t frame;
} fo[2];

static void fanout_half(void *job, int part, int lo, int hi)
{
	const fanout_t *f = job;
	struct fanout_out *o = &fo[part];
	for (int i = lo; i < hi; i++) {
		session_t *s = f->v[i];
		if (s->user_id == f->exclude ||
		    (f->channel && (!f->pc || !session_can_view(s, f->pc, f->cid, f->chid))))
			continue;
		payload_t *dropped;
		uint64_t seq = ring_store(s, f->p, &dropped);
		o->refs++;
		if (dropped) {
			if (o->ndropped == o->cap_dropped) {
				o->cap_dropped = o->cap_dropped ? o->cap_dropped * 2 : 1024;
				o->dropped =
				    xrealloc(o->dropped, (size_t)o->cap_dropped * sizeof *o->dropped);
			}
			o->dropped[o->ndropped++] = dropped;
		}
		conn_t *c = s->conn;
		if (!c || c->state != C_OPEN)
			continue;
		frame_dispatch(&o->frame, seq, f->p);
		bool ok = f->direct ? ws_send_text(&c->ws, o->frame.data, o->frame.len, gw.send_queue_max)
				    : ws_queue_text(&c->ws, o->frame.data, o->frame.len, gw.send_queue_max);
		if (!ok)
			c->slow = true;
		if (ok && !c->ws.broken && ws_pending(&c->ws) == 0)
			continue;
		if (o->ntouched == o->cap_touched) {
			o->cap_touched = o->cap_touched ? o->cap_touched * 2 : 1024;
			o->touched = xrealloc(o->touched, (size_t)o->cap_touched * sizeof *o->touched);
		}
		o->touched[o->ntouched++] = c;
	}
}

static void fanout(fanout_t *f, int n)
{
	split_run(fanout_half, f, n);
	for (int part = 0; part < 2; part++) { /* the loop's share of the work, after both threads */
		struct fanout_out *o = &fo[part];
		f->p->refs += o->refs;
		for (int i = 0; i < o->ndropped; i++)
			payload_unref(o->dropped[i]);
		for (int i = 0; i < o->ntouched; i++) {
			conn_t *c = o->touched[i];
			if (c->slow) {
				c->slow = false;
				close_slow(c);
			}
			mark_dirty(c);
		}
		o->refs = o->ndropped = o->ntouched = 0;
	}
}

static void fanout_free(void)
{
	for (int part = 0; part < 2; part++) {
		free(fo[part].touched);
		free(fo[part].dropped);
		buf_cleanup(&fo[part].frame);
		memset(&fo[part], 0, sizeof fo[part]);
	}
}

static void reload_member(int64_t user_id)
{
	bucket_t *b = index_find(&gw.by_user, user_id);
	db_conn_t *dc = db_thread_conn(gw.db, &(err_t){0});
	for (int i = 0; b && dc && i < b->n; i++)
		memberships_load(b->v[i], dc);
}

/* `last`: no other event waits in the inbox behind this one. */
static void route(const char *json, size_t len, bool last)
{
	json_error_t je;
	json_t *o = json_loadb(json, len, 0, &je);
	const char *type = json_string_value(json_object_get(o, "t"));
	json_t *d = json_object_get(o, "d");
	if (!type || !d) {
		json_decref(o);
		return;
	}
	ev_scope_t scope = (ev_scope_t)json_integer_value(json_object_get(o, "sc"));
	int64_t cid = json_integer_value(json_object_get(o, "c"));
	int64_t chid = json_integer_value(json_object_get(o, "ch"));
	int64_t uid = json_integer_value(json_object_get(o, "u"));
	int64_t exclude = json_integer_value(json_object_get(o, "x"));
	unsigned flags = (unsigned)json_integer_value(json_object_get(o, "f"));

	payload_t *p = payload_make(type, d);

	/* A channel whose overwrites changed: who could see it before? Those who lose it get
	 * CHANNEL_DELETE, those who gain it CHANNEL_CREATE (docs/gateway.md). */
	bool *saw = NULL;
	bucket_t *cb = scope == EV_CHANNEL ? index_find(&gw.by_community, cid) : NULL;
	/* (Not with EV_RELOAD_MEMBER: reloading memberships may move the index under cb.) */
	if ((flags & EV_RELOAD_RULES) && !(flags & EV_RELOAD_MEMBER) && cb && cb->n &&
	    strcmp(type, "CHANNEL_UPDATE") == 0) {
		saw = xcalloc((size_t)cb->n, sizeof *saw);
		perm_cache_t *old = rules(cid);
		for (int i = 0; old && i < cb->n; i++)
			saw[i] = session_can_view(cb->v[i], old, cid, chid);
	}
	if (flags & EV_RELOAD_RULES)
		rules_drop(cid);
	if (flags & EV_RELOAD_MEMBER)
		reload_member(uid);
	if (saw) {
		json_t *gone = json_pack("{s:o, s:o}", "id", jx_id(chid), "community_id", jx_id(cid));
		payload_t *del = payload_make("CHANNEL_DELETE", gone);
		payload_t *add = payload_make("CHANNEL_CREATE", d);
		json_decref(gone);
		perm_cache_t *pc = rules(cid);
		for (int i = 0; i < cb->n; i++) {
			bool sees = pc && session_can_view(cb->v[i], pc, cid, chid);
			if (sees || saw[i])
				deliver_to(cb->v[i], sees ? (saw[i] ? p : add) : del, exclude);
		}
		payload_unref(del);
		payload_unref(add);
		free(saw);
		payload_unref(p);
		json_decref(o);
		return;
	}

	if (scope == EV_USER) {
		bucket_t *b = index_find(&gw.by_user, uid);
		for (int i = 0; b && i < b->n; i++)
			deliver_to(b->v[i], p, exclude);
	} else {
		bucket_t *b = index_find(&gw.by_community, cid);
		bool deleted = strcmp(type, "COMMUNITY_DELETE") == 0;
		perm_cache_t *pc = scope == EV_CHANNEL && b && b->n ? rules(cid) : NULL;
		if (b && b->n >= gw.cfg.flush_split && fl.started) {
			fanout_t f = {.v = b->v,
				      .pc = pc,
				      .p = p,
				      .cid = cid,
				      .chid = chid,
				      .exclude = exclude,
				      .channel = scope == EV_CHANNEL,
				      .direct = last};
			fanout(&f, b->n);
		} else {
			for (int i = 0; b && i < b->n; i++) {
				session_t *s = b->v[i];
				if (scope == EV_CHANNEL && (!pc || !session_can_view(s, pc, cid, chid)))
					continue;
				deliver_to(s, p, exclude);
			}
		}
		if (flags & EV_ALSO_USER) {
			bucket_t *u = index_find(&gw.by_user, uid);
			for (int i = 0; u && i < u->n; i++)
				if (!membership(u->v[i], cid))
					deliver_to(u->v[i], p, exclude);
		}
		if (deleted) {
			while (b && b->n) {
				session_t *s = b->v[b->n - 1];
				membership_t *m = membership(s, cid);
				index_del(&gw.by_community, cid, s);
				if (m) {
					free(m->roles);
					*m = s->comms[--s->ncomms];
				}
			}
			rules_drop(cid);
		}
	}
	payload_unref(p);
	json_decref(o);
}

static void gateway_deliver(const char *json, size_t len)
{
	struct inbox_item *it = xmalloc(sizeof *it + len + 1);
	it->next = NULL;
	it->len = len;
	memcpy(it->data, json, len);
	it->data[len] = '\0';
	pthread_mutex_lock(&gw.inbox_mu);
	*gw.inbox_tail = it;
	gw.inbox_tail = &it->next;
	pthread_mutex_unlock(&gw.inbox_mu);
	uint64_t one = 1;
	ssize_t w = write(gw.efd, &one, sizeof one);
	(void)w;
}

static void drain_inbox(void)
{
	uint64_t v;
	ssize_t r = read(gw.efd, &v, sizeof v);
	(void)r;
	pthread_mutex_lock(&gw.inbox_mu);
	struct inbox_item *it = gw.inbox_head;
	gw.inbox_head = NULL;
	gw.inbox_tail = &gw.inbox_head;
	pthread_mutex_unlock(&gw.inbox_mu);
	for (int n = 1; it; n++) {
		struct inbox_item *next = it->next;
		route(it->data, it->len, next == NULL);
		free(it);
		it = next;
		if (n % FLUSH_EVERY == 0) /* a burst must not hold back its first events */
			flush_dirty();
	}
}

/* ==== housekeeping ==== */

static void tick(void)
{
	int64_t t = now();
	int64_t silent =
	    gw.cfg.heartbeat_ms +
	    (gw.cfg.heartbeat_ms < HEARTBEAT_GRACE_MS ? gw.cfg.heartbeat_ms : HEARTBEAT_GRACE_MS);
	for (conn_t *c = gw.conns, *next; c; c = next) {
		next = c->next;
		if (c->state == C_HANDSHAKE && t - c->opened_at > IDENTIFY_TIMEOUT_MS)
			conn_destroy(c);
		else if (c->state == C_OPEN && !c->sess && t - c->opened_at > IDENTIFY_TIMEOUT_MS)
			close_with(c, CLOSE_TIMEOUT, "session_timeout: identify within 10 s");
		else if (c->state == C_OPEN && t - c->last_seen > silent)
			close_with(c, CLOSE_TIMEOUT, "session_timeout: no heartbeat");
		else if (c->state == C_CLOSING && t - c->closing_at > CLOSE_LINGER_MS)
			conn_destroy(c);
	}
	for (session_t *s = gw.sessions, *next; s; s = next) {
		next = s->next;
		if (!s->conn && t - s->detached_at > RESUME_WINDOW_MS)
			session_destroy(s);
	}
	for (int i = 0; i < gw.npending; i++) {
		if (gw.pending[i].at > t)
			continue;
		int64_t uid = gw.pending[i].user_id;
		gw.pending[i--] = gw.pending[--gw.npending];
		if (attached_sessions(uid) == 0) {
			presence_set(uid, PRESENCE_OFFLINE, 1);
			presence_announce(uid, PRESENCE_OFFLINE);
		}
	}
	int nsessions = 0;
	for (session_t *s = gw.sessions; s; s = s->next)
		nsessions++;
	metrics_gateway(gw.nconns, nsessions);
}

static void *loop(void *arg)
{
	(void)arg;
	struct epoll_event evs[256];
	int64_t last_tick = now();
	while (!atomic_load(&gw.stop)) {
		int n = epoll_wait(gw.epfd, evs, 256, 250);
		for (int i = 0; i < n; i++) {
			void *ptr = evs[i].data.ptr;
			if (ptr == &gw.lfd) {
				accept_all();
				continue;
			}
			if (ptr == &gw.efd) {
				drain_inbox();
				continue;
			}
			conn_t *c = ptr;
			if (c->state == C_HANDSHAKE) {
				handshake_read(c);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
				if (ws_read(&c->ws, on_message, c) != WS_OK) {
					conn_destroy(c);
					continue;
				}
				if (c->ws.close_received &&
				    c->state == C_OPEN) { /* the client said goodbye */
					c->state = C_CLOSING;
					c->closing_at = now();
				}
			}
			mark_dirty(c);
		}
		flush_dirty();
		int64_t t = now();
		if (t - last_tick >= 1000) {
			last_tick = t;
			tick();
			flush_dirty();
		}
	}
	/* Shutdown: tell everyone, give the frames a moment to leave, then close. */
	for (conn_t *c = gw.conns; c; c = c->next)
		if (c->state == C_OPEN)
			close_with(c, CLOSE_SHUTDOWN, "server_shutdown");
	flush_dirty();
	while (gw.conns)
		conn_destroy(gw.conns);
	while (gw.sessions)
		session_destroy(gw.sessions);
	drain_inbox();
	db_thread_conn_drop(gw.db);
	return NULL;
}

/* ==== start, stop ==== */

static bool bind_listener(const char *listen_addr, err_t *e)
{
	char host[256];
	const char *colon = strrchr(listen_addr, ':');
	int64_t port;
	if (!colon || (size_t)(colon - listen_addr) >= sizeof host || !parse_i64(colon + 1, &port) ||
	    port < 0 || port > 65535)
		return err_set(e, ERR_INVALID, "bad_config", "COSMIV_GATEWAY_LISTEN",
			       "COSMIV_GATEWAY_LISTEN must be host:port, got \"%s\"", listen_addr);
	memcpy(host, listen_addr, (size_t)(colon - listen_addr));
	host[colon - listen_addr] = '\0';
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *ai;
	if (getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai) != 0)
		return err_set(e, ERR_INVALID, "bad_config", "COSMIV_GATEWAY_LISTEN", "cannot resolve \"%s\"",
			       host);
	gw.lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(gw.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	bool ok = gw.lfd >= 0 && bind(gw.lfd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(gw.lfd, 4096) == 0;
	freeaddrinfo(ai);
	if (!ok) {
		int err = errno;
		if (gw.lfd >= 0)
			close(gw.lfd);
		gw.lfd = -1;
		return err_set(e, ERR_UNAVAILABLE, "listen_failed", "COSMIV_GATEWAY_LISTEN",
			       "gateway cannot listen on %s: %s", listen_addr, strerror(err));
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(gw.lfd, (struct sockaddr *)&ss, &sl);
	char addr[INET6_ADDRSTRLEN] = "";
	int bound = 0;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof addr);
		bound = ntohs(in->sin_port);
		gw.listen = xasprintf("%s:%d", addr, bound);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr);
		bound = ntohs(in6->sin6_port);
		gw.listen = xasprintf("[%s]:%d", addr, bound);
	}
	return true;
}

bool gateway_start(const gateway_config_t *cfg, db_t *db, err_t *e)
{
	memset(&gw, 0, sizeof gw);
	gw.cfg = *cfg;
	if (gw.cfg.flush_split < 2)
		gw.cfg.flush_split = 2048;
	gw.send_queue_max = (size_t)(gw.cfg.send_queue_kb > 0 ? gw.cfg.send_queue_kb : 1024) << 10;
	gw.db = db;
	gw.lfd = gw.efd = gw.epfd = -1;
	if (!bind_listener(cfg->listen, e))
		return false;
	gw.url = cfg->public_url && cfg->public_url[0] ? xstrdup(cfg->public_url)
						       : xasprintf("ws://%s" GW_PATH, gw.listen);
	gw.cfg.listen = gw.listen;
	gw.cfg.public_url = gw.url;
	gw.cfg.redis_url = NULL;
	gw.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	gw.epfd = epoll_create1(EPOLL_CLOEXEC);
	pthread_mutex_init(&gw.inbox_mu, NULL);
	gw.inbox_tail = &gw.inbox_head;
	struct epoll_event le = {.events = EPOLLIN, .data.ptr = &gw.lfd};
	struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &gw.efd};
	if (gw.efd < 0 || gw.epfd < 0 || epoll_ctl(gw.epfd, EPOLL_CTL_ADD, gw.lfd, &le) != 0 ||
	    epoll_ctl(gw.epfd, EPOLL_CTL_ADD, gw.efd, &ee) != 0) {
		gateway_stop();
		return err_set(e, ERR_INTERNAL, "gateway_failed", NULL, "gateway event loop: %s",
			       strerror(errno));
	}
	if (!events_start(cfg->redis_url, gateway_deliver)) {
		gateway_stop();
		return err_set(e, ERR_INTERNAL, "gateway_failed", NULL, "cannot start the event subscriber");
	}
	fl.quit = false;
	fl.started = pthread_create(&fl.thread, NULL, helper, NULL) == 0;
	if (pthread_create(&gw.thread, NULL, loop, NULL) != 0) {
		gateway_stop();
		return err_set(e, ERR_INTERNAL, "gateway_failed", NULL, "cannot start the gateway thread");
	}
	gw.running = true;
	log_info("gateway listening", "addr", gw.listen, "url", gw.url, NULL);
	return true;
}

void gateway_stop(void)
{
	events_stop();
	if (!gw.listen) /* never started (COSMIV_GATEWAY_LISTEN=off), or stopped already */
		return;
	if (gw.running) {
		atomic_store(&gw.stop, true);
		pthread_join(gw.thread, NULL);
		gw.running = false;
	}
	if (fl.started) {
		pthread_mutex_lock(&fl.mu);
		fl.quit = true;
		pthread_cond_signal(&fl.go);
		pthread_mutex_unlock(&fl.mu);
		pthread_join(fl.thread, NULL);
		fl.started = false;
	}
	free(fl.all);
	fanout_free();
	fl.all = NULL;
	fl.cap = 0;
	if (gw.lfd >= 0)
		close(gw.lfd);
	if (gw.efd >= 0)
		close(gw.efd);
	if (gw.epfd >= 0)
		close(gw.epfd);
	gw.lfd = gw.efd = gw.epfd = -1;
	for (size_t i = 0; i < gw.rules.cap; i++)
		for (int j = 0; j < gw.rules.b[i].n; j++) {
			perm_cache_free(gw.rules.b[i].v[j]);
			free(gw.rules.b[i].v[j]);
		}
	index_free(&gw.rules);
	index_free(&gw.by_community);
	index_free(&gw.by_user);
	index_free(&gw.by_key);
	free(gw.pending);
	gw.pending = NULL;
	buf_cleanup(&gw.scratch);
	free(gw.listen);
	free(gw.url);
	gw.listen = gw.url = NULL;
}

const char *gateway_url(void)
{
	return gw.running ? gw.url : NULL;
}

int gateway_heartbeat_ms(void)
{
	return gw.cfg.heartbeat_ms;
}

/* ==== the fuzz entry point ==== */

int gateway_fuzz_frame(const char *data, size_t len)
{
	conn_t c = {.fd = -1, .state = C_OPEN};
	if (!ws_init(&c.ws, -1, MAX_FRAME))
		return -1;
	c.upgraded = true;
	c.last_seen = c.opened_at = now();
	on_frame(&c, data, len);
	gw.dirty = NULL; /* the loop never runs here: forget the flush list that named &c */
	ws_free(&c.ws);
	return c.close_code;
}
