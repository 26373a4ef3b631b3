/*
 * router.c — see router.h. Linear scan over pre-split patterns: with the
 * few dozen routes of an API this beats a trie on cache behaviour and is
 * trivially correct.
 */
#include "http/router.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MAX_ROUTES 256
#define MAX_SEGS   12

typedef struct {
	route_t r;
	int nseg;
	char *segs[MAX_SEGS]; /* "{name}" segments stored as "{name" for quick test */
} entry_t;

static entry_t routes[MAX_ROUTES];
static int nroutes;

static const struct {
	const char *name;
	int id;
} methods[] = {
    {"GET", HTTP_GET},	   {"HEAD", HTTP_HEAD},	    {"POST", HTTP_POST},       {"PUT", HTTP_PUT},
    {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
};

int router_method_id(const char *m)
{
	for (size_t i = 0; i < ARRAY_LEN(methods); i++)
		if (strcmp(methods[i].name, m) == 0)
			return methods[i].id;
	return 0;
}

void router_methods_str(int mask, char *out, size_t outlen)
{
	buf_t b;
	buf_init(&b);
	for (size_t i = 0; i < ARRAY_LEN(methods); i++) {
		if (!(mask & methods[i].id))
			continue;
		if (b.len)
			buf_puts(&b, ", ");
		buf_puts(&b, methods[i].name);
	}
	str_copy(out, outlen, b.data ? b.data : "");
	buf_cleanup(&b);
}

static int split(const char *path, char **segs, int max, bool copy)
{
	int n = 0;
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (n == max)
			return -1;
		if (copy)
			segs[n] = xstrndup(p, len);
		else
			segs[n] = (char *)p;
		n++;
		p += len;
		while (*p == '/')
			p++;
	}
	return n;
}

int router_add(int methods_mask, const char *pattern, http_handler_fn fn, int flags)
{
	if (nroutes == MAX_ROUTES)
		abort();
	entry_t *e = &routes[nroutes];
	e->nseg = split(pattern, e->segs, MAX_SEGS, true);
	if (e->nseg < 0)
		abort();
	for (int i = 0; i < e->nseg; i++) {
		size_t l = strlen(e->segs[i]);
		if (e->segs[i][0] == '{' && e->segs[i][l - 1] == '}')
			e->segs[i][l - 1] = '\0';
	}
	e->r.id = nroutes;
	e->r.methods = methods_mask | ((methods_mask & HTTP_GET) ? HTTP_HEAD : 0);
	e->r.flags = flags;
	e->r.pattern = pattern;
	e->r.fn = fn;
	return nroutes++;
}

/* Compares segment i of the path (not NUL-terminated) with a pattern segment. */
static bool seg_match(const char *pseg, const char *s, size_t len)
{
	if (pseg[0] == '{')
		return len > 0;
	return strlen(pseg) == len && memcmp(pseg, s, len) == 0;
}

static size_t seg_len(const char *s)
{
	const char *end = strchr(s, '/');
	return end ? (size_t)(end - s) : strlen(s);
}

const route_t *router_match(int method, const char *path, route_params_t *params, int *allow)
{
	char *segs[MAX_SEGS];
	int n = split(path, segs, MAX_SEGS, false);
	*allow = 0;
	memset(params, 0, sizeof(*params));
	if (n < 0)
		return NULL;
	for (int i = 0; i < nroutes; i++) {
		entry_t *e = &routes[i];
		if (e->nseg != n)
			continue;
		bool ok = true;
		for (int k = 0; k < n && ok; k++)
			ok = seg_match(e->segs[k], segs[k], seg_len(segs[k]));
		if (!ok)
			continue;
		if (!(e->r.methods & method)) {
			*allow |= e->r.methods;
			continue;
		}
		for (int k = 0; k < n; k++) {
			if (e->segs[k][0] != '{' || params->n == HTTP_MAX_PARAMS)
				continue;
			params->names[params->n] = e->segs[k] + 1;
			params->values[params->n] = xstrndup(segs[k], seg_len(segs[k]));
			params->n++;
		}
		return &e->r;
	}
	return NULL;
}

void router_params_free(route_params_t *params)
{
	for (int i = 0; i < params->n; i++)
		free(params->values[i]);
	params->n = 0;
}

int router_add_stream(int methods_mask, const char *pattern, http_stream_fn fn, int flags)
{
	int id = router_add(methods_mask, pattern, NULL, flags);
	routes[id].r.stream = fn;
	return id;
}

int router_count(void)
{
	return nroutes;
}

const route_t *router_get(int id)
{
	return id >= 0 && id < nroutes ? &routes[id].r : NULL;
}

void router_reset(void)
{
	for (int i = 0; i < nroutes; i++)
		for (int k = 0; k < routes[i].nseg; k++)
			free(routes[i].segs[k]);
	nroutes = 0;
}
