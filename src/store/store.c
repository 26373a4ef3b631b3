/*
 * store.c — see store.h. Two backends behind one set of functions; the
 * backend is picked once at store_open.
 */
#include "store/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

struct store {
	bool s3;
	char *root;	/* local: directory */
	char *endpoint; /* s3: http://host:port (no trailing slash) */
	char *bucket;
	char *region;
	char *userpwd; /* access:secret */
	char *sigv4;   /* "aws:amz:REGION:s3" */
};

/* ==== Keys ==== */

bool store_key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > 200 || key[0] == '/' || strstr(key, "..") || strstr(key, "//"))
		return false;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' ||
		      *p == '-' || *p == '.'))
			return false;
	return true;
}

static bool check_key(const char *key, err_t *e)
{
	if (store_key_valid(key))
		return true;
	return err_set(e, ERR_INTERNAL, "bad_key", NULL, "invalid storage key");
}

/* ==== Set-up ==== */

static char *query_param(const char *q, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = q; p && *p;) {
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			const char *v = p + nl + 1;
			return xstrndup(v, strcspn(v, "&"));
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return NULL;
}

static bool mkdirs(const char *path)
{
	char *p = xstrdup(path);
	bool ok = true;
	for (char *s = p + 1; ok; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			ok = mkdir(p, 0700) == 0 || errno == EEXIST;
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return ok;
}

store_t *store_open(const char *url, const char *data_dir, const char *access_key, const char *secret_key,
		    err_t *e)
{
	store_t *s = xcalloc(1, sizeof(*s));
	if (!url || !url[0] || str_has_prefix(url, "file://")) {
		s->root = url && url[0] ? xstrdup(url + 7) : xasprintf("%s/media", data_dir);
		if (!mkdirs(s->root)) {
			err_set(e, ERR_UNAVAILABLE, "storage_unavailable", NULL, "cannot create %s: %s",
				s->root, strerror(errno));
			store_close(s);
			return NULL;
		}
		return s;
	}
	if (!str_has_prefix(url, "s3://")) {
		err_set(e, ERR_INVALID, "bad_config", "COSMIV_STORAGE_URL",
			"COSMIV_STORAGE_URL must be empty, file:///dir or s3://bucket?endpoint=…");
		store_close(s);
		return NULL;
	}
	s->s3 = true;
	const char *b = url + 5;
	const char *q = strchr(b, '?');
	s->bucket = xstrndup(b, q ? (size_t)(q - b) : strlen(b));
	s->endpoint = q ? query_param(q + 1, "endpoint") : NULL;
	s->region = q ? query_param(q + 1, "region") : NULL;
	if (!s->region)
		s->region = xstrdup("us-east-1");
	if (!s->endpoint)
		s->endpoint = xasprintf("https://s3.%s.amazonaws.com", s->region);
	size_t el = strlen(s->endpoint);
	if (el && s->endpoint[el - 1] == '/')
		s->endpoint[el - 1] = '\0';
	const char *ak = access_key;
	const char *sk = secret_key;
	if (!ak || !*ak)
		ak = getenv("AWS_ACCESS_KEY_ID");
	if (!sk || !*sk)
		sk = getenv("AWS_SECRET_ACCESS_KEY");
	if (!s->bucket[0] || !ak || !sk || !*ak || !*sk) {
		err_set(e, ERR_INVALID, "bad_config", "COSMIV_STORAGE_URL",
			"S3 storage needs a bucket and COSMIV_S3_ACCESS_KEY / COSMIV_S3_SECRET_KEY");
		store_close(s);
		return NULL;
	}
	s->userpwd = xasprintf("%s:%s", ak, sk);
	s->sigv4 = xasprintf("aws:amz:%s:s3", s->region);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* Check reachability and credentials once, so a bad config fails at start. */
	int64_t dummy;
	err_t e2;
	if (!store_size(s, "cosmiv-probe", &dummy, &e2) && e2.kind != ERR_NOT_FOUND) {
		err_set(e, ERR_UNAVAILABLE, "storage_unavailable", NULL, "S3 at %s (bucket %s): %s",
			s->endpoint, s->bucket, e2.detail);
		store_close(s);
		return NULL;
	}
	return s;
}

void store_close(store_t *s)
{
	if (!s)
		return;
	if (s->s3)
		curl_global_cleanup();
	free(s->root);
	free(s->endpoint);
	free(s->bucket);
	free(s->region);
	if (s->userpwd)
		explicit_bzero(s->userpwd, strlen(s->userpwd));
	free(s->userpwd);
	free(s->sigv4);
	free(s);
}

const char *store_kind(const store_t *s)
{
	return s->s3 ? "s3" : "local";
}

bool store_local_path(const store_t *s, const char *key, char *out, size_t outlen)
{
	if (s->s3 || !store_key_valid(key))
		return false;
	snprintf(out, outlen, "%s/%s", s->root, key);
	return true;
}

/* ==== Local backend ==== */

static bool copy_fd(int in, int out)
{
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == 0)
			return true;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return false;
			}
			off += w;
		}
	}
}

static bool fsync_dir(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok = fd >= 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	free(dir);
	return ok;
}

/* Copies src to dst durably: temp file, fsync, rename, fsync the directory. */
static bool durable_copy(const char *src, const char *dst, err_t *e)
{
	char *tmp = xasprintf("%s.tmp%u", dst, (unsigned)getpid());
	char *dir = xstrdup(dst);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	bool ok = false;
	int in = -1, out = -1;
	if (slash && !mkdirs(dir)) {
		err_set(e, ERR_UNAVAILABLE, "storage_error", NULL, "cannot create %s", dir);
		goto out;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || out < 0 || !copy_fd(in, out) || fsync(out) != 0) {
		err_set(e, ERR_UNAVAILABLE, "storage_error", NULL, "cannot write %s: %s", dst,
			strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, dst) != 0 || !fsync_dir(dst)) {
		err_set(e, ERR_UNAVAILABLE, "storage_error", NULL, "cannot store %s: %s", dst,
			strerror(errno));
		unlink(tmp);
		goto out;
	}
	ok = true;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(tmp);
	free(dir);
	return ok;
}

/* ==== S3 backend ==== */

typedef struct {
	FILE *f;
	buf_t *mem;
	int64_t limit; /* for mem: stop appending after this many bytes */
} sink_t;

static size_t on_write(char *p, size_t size, size_t n, void *ctx)
{
	sink_t *s = ctx;
	size_t len = size * n;
	if (s->f)
		return fwrite(p, 1, len, s->f);
	if (s->mem)
		buf_append(s->mem, p, len);
	return len;
}

static char *object_url(store_t *s, const char *key)
{
	return xasprintf("%s/%s/%s", s->endpoint, s->bucket, key);
}

/* Runs one S3 request. Returns the HTTP status (0 on transport error). */
static long s3_request(store_t *s, const char *method, const char *key, FILE *upload, int64_t upload_size,
		       const char *content_type, const char *range, sink_t *sink, int64_t *content_length,
		       err_t *e)
{
	CURL *c = curl_easy_init();
	char *url = object_url(s, key);
	struct curl_slist *h = NULL;
	char hdr[160];
	long status = 0;
	h = curl_slist_append(h, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (content_type) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", content_type);
		h = curl_slist_append(h, hdr);
	}
	if (range) {
		snprintf(hdr, sizeof(hdr), "Range: %s", range);
		h = curl_slist_append(h, hdr);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(c, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	sink_t discard = {0};
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink ? sink : &discard);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, upload);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)upload_size);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "DELETE") == 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		err_set(e, ERR_UNAVAILABLE, "storage_unavailable", NULL, "object storage request failed: %s",
			curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (content_length) {
			curl_off_t cl = -1;
			curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
			*content_length = cl;
		}
		if (status == 404)
			err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such object");
		else if (status >= 300)
			err_set(e, ERR_UNAVAILABLE, "storage_error", NULL,
				"object storage answered %ld for %s %s", status, method, key);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	return rc == CURLE_OK ? status : 0;
}

/* ==== Operations ==== */

bool store_put_file(store_t *s, const char *key, const char *path, const char *content_type, err_t *e)
{
	if (!check_key(key, e))
		return false;
	if (!s->s3) {
		char dst[PATH_MAX];
		store_local_path(s, key, dst, sizeof(dst));
		return durable_copy(path, dst, e);
	}
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) != 0) {
		if (f)
			fclose(f);
		return err_set(e, ERR_INTERNAL, "storage_error", NULL, "cannot read %s", path);
	}
	long status = s3_request(s, "PUT", key, f, st.st_size, content_type, NULL, NULL, NULL, e);
	fclose(f);
	return status >= 200 && status < 300;
}

bool store_get_file(store_t *s, const char *key, const char *path, err_t *e)
{
	if (!check_key(key, e))
		return false;
	if (!s->s3) {
		char src[PATH_MAX];
		store_local_path(s, key, src, sizeof(src));
		if (access(src, R_OK) != 0)
			return err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such object");
		return durable_copy(src, path, e);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return err_set(e, ERR_INTERNAL, "storage_error", NULL, "cannot write %s", path);
	sink_t sink = {.f = f};
	long status = s3_request(s, "GET", key, NULL, 0, NULL, NULL, &sink, NULL, e);
	bool ok = fclose(f) == 0 && status >= 200 && status < 300;
	if (!ok)
		unlink(path);
	return ok;
}

bool store_delete(store_t *s, const char *key, err_t *e)
{
	if (!check_key(key, e))
		return false;
	if (!s->s3) {
		char p[PATH_MAX];
		store_local_path(s, key, p, sizeof(p));
		if (unlink(p) != 0 && errno != ENOENT)
			return err_set(e, ERR_UNAVAILABLE, "storage_error", NULL, "cannot delete %s", key);
		return true;
	}
	long status = s3_request(s, "DELETE", key, NULL, 0, NULL, NULL, NULL, NULL, e);
	return (status >= 200 && status < 300) || status == 404;
}

bool store_size(store_t *s, const char *key, int64_t *size, err_t *e)
{
	if (!check_key(key, e))
		return false;
	if (!s->s3) {
		char p[PATH_MAX];
		struct stat st;
		store_local_path(s, key, p, sizeof(p));
		if (stat(p, &st) != 0)
			return err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such object");
		*size = st.st_size;
		return true;
	}
	long status = s3_request(s, "HEAD", key, NULL, 0, NULL, NULL, NULL, size, e);
	return status >= 200 && status < 300;
}

bool store_read(store_t *s, const char *key, int64_t off, size_t len, buf_t *out, err_t *e)
{
	if (!check_key(key, e))
		return false;
	if (len == 0)
		return true;
	if (!s->s3) {
		char p[PATH_MAX];
		store_local_path(s, key, p, sizeof(p));
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_set(e, ERR_NOT_FOUND, "not_found", NULL, "no such object");
		char *tmp = xmalloc(len);
		ssize_t n = pread(fd, tmp, len, off);
		close(fd);
		if (n > 0)
			buf_append(out, tmp, (size_t)n);
		free(tmp);
		return n >= 0 || err_set(e, ERR_UNAVAILABLE, "storage_error", NULL, "read failed");
	}
	char range[64];
	snprintf(range, sizeof(range), "bytes=%lld-%lld", (long long)off,
		 (long long)(off + (int64_t)len - 1));
	sink_t sink = {.mem = out};
	long status = s3_request(s, "GET", key, NULL, 0, NULL, range, &sink, NULL, e);
	return status == 206 || status == 200;
}
