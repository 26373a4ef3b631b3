/*
 * health_api.c — /healthz, /readyz, /metrics.
 *
 * healthz answers as long as the process serves HTTP (liveness); readyz also
 * runs a query on this thread's database connection (readiness: take the node
 * out of the load balancer when its database is gone).
 */
#include "api/api.h"
#include "http/metrics.h"

static void healthz(http_req_t *r)
{
	http_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void readyz(http_req_t *r)
{
	err_t e;
	db_conn_t *c = db_thread_conn(api_db(), &e);
	int64_t one = 0;
	if (!c || !db_query_i64(c, "SELECT 1", &one, &e, 0)) {
		if (c)
			db_thread_conn_drop(api_db());
		http_error(r, ERR_UNAVAILABLE, "not_ready", NULL, "the database is not reachable");
		return;
	}
	http_json(r, 200,
		  json_pack("{s:s, s:s}", "status", "ready", "database",
			    db_is_postgres(api_db()) ? "postgres" : "sqlite"));
}

static void metrics(http_req_t *r)
{
	buf_t b;
	buf_init(&b);
	metrics_render(&b);
	http_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	buf_cleanup(&b);
}

void api_health_routes(void)
{
	http_route(HTTP_GET, "/healthz", healthz, HTTP_ROUTE_NOLOG);
	http_route(HTTP_GET, "/readyz", readyz, HTTP_ROUTE_NOLOG);
	http_route(HTTP_GET, "/metrics", metrics, HTTP_ROUTE_NOLOG);
}
