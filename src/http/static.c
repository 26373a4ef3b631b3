/*
 * static.c — serves the built web app (web/dist).
 *
 * Files under /assets/ carry a content hash in their names (Vite), so they
 * are cached for a year as immutable; everything else, index.html above all,
 * is revalidated (no-cache + ETag) so a deploy is picked up at once.
 * A path that names no file and has no extension is a client-side route: it
 * gets index.html (SPA fallback). Dot segments and dotfiles are refused, and
 * the resolved path must stay inside the web directory.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "http/internal.h"

static char *root; /* realpath of the web directory, or NULL when API-only */

bool http_static_init(const char *web_dir)
{
	free(root);
	root = NULL;
	char buf[PATH_MAX];
	if (!web_dir || !web_dir[0] || !realpath(web_dir, buf))
		return false;
	char *index = xasprintf("%s/index.html", buf);
	struct stat st;
	bool ok = stat(index, &st) == 0 && S_ISREG(st.st_mode);
	free(index);
	if (ok)
		root = xstrdup(buf);
	return ok;
}

void http_static_cleanup(void)
{
	free(root);
	root = NULL;
}

bool http_static_available(void)
{
	return root != NULL;
}

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".webp", "image/webp"},
    {".gif", "image/gif"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
    {".mp4", "video/mp4"},
    {".webm", "video/webm"},
};

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash))
		return "application/octet-stream";
	for (size_t i = 0; i < ARRAY_LEN(types); i++)
		if (str_ieq(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

static bool path_safe(const char *p)
{
	if (p[0] != '/' || strstr(p, "/.") || strchr(p, '\\'))
		return false;
	return strlen(p) < 1024;
}

static bool has_extension(const char *p)
{
	const char *slash = strrchr(p, '/');
	return strchr(slash ? slash : p, '.') != NULL;
}

void http_static_serve(http_req_t *r)
{
	r->is_web = true;
	if (!root) {
		r->is_web = false;
		http_error(r, ERR_NOT_FOUND, "web_app_not_built", NULL,
			   "the web app is not built on this server; the API is under /api/v2");
		return;
	}
	if (!path_safe(r->path)) {
		http_error(r, ERR_NOT_FOUND, "not_found", NULL, "no such file");
		return;
	}
	const char *rel = r->path;
	bool dir = rel[strlen(rel) - 1] == '/';
	char *full = xasprintf("%s%s%s", root, rel, dir ? "index.html" : "");
	char real[PATH_MAX];
	struct stat st;
	bool found = realpath(full, real) && str_has_prefix(real, root) && real[strlen(root)] == '/' &&
		     stat(real, &st) == 0 && S_ISREG(st.st_mode);
	free(full);
	if (found) {
		bool hashed = str_has_prefix(rel, "/assets/");
		http_send_file(r, real, content_type(real),
			       hashed ? "public, max-age=31536000, immutable" : "no-cache");
		return;
	}
	if (has_extension(rel)) {
		http_error(r, ERR_NOT_FOUND, "not_found", NULL, "no such file");
		return;
	}
	char *index = xasprintf("%s/index.html", root);
	http_send_file(r, index, "text/html; charset=utf-8", "no-cache");
	free(index);
}
