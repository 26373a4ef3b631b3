/*
 * gateway_api.c — GET /api/v2/gateway on the HTTP port: where the WebSocket
 * gateway listens (docs/gateway.md). The socket itself is the gateway's own
 * listener; behind nginx both share one origin.
 */
#include "api/api.h"
#include "gateway/gateway.h"

static void where(http_req_t *r)
{
	const char *url = gateway_url();
	if (!url) {
		http_error(r, ERR_UNAVAILABLE, "gateway_off", NULL,
			   "the gateway is turned off on this node (COSMIV_GATEWAY_LISTEN=off)");
		return;
	}
	http_json(r, 200,
		  json_pack("{s:s, s:i}", "url", url, "heartbeat_interval_ms", gateway_heartbeat_ms()));
}

void api_gateway_routes(void)
{
	http_route(HTTP_GET, "/api/v2/gateway", where, 0);
}
