/*
 * metrics.h — Prometheus metrics (text exposition format 0.0.4).
 *
 * http_requests_total and http_request_duration_seconds (a histogram) are
 * labelled by route pattern (never the raw path: bounded cardinality),
 * method and status. Thread-safe: one mutex around a small table; an update
 * is a few dozen nanoseconds, far below a request's cost.
 */
#ifndef COSMIV_METRICS_H
#define COSMIV_METRICS_H

#include <stdint.h>

#include "core/util.h"

void metrics_observe_request(const char *route, const char *method, int status, double seconds);
void metrics_inflight_add(int delta);
int metrics_inflight(void);
/* Counter for anything else: metrics_count("cosmiv_rate_limited_total", "scope", "login"). */
void metrics_count(const char *name, const char *label, const char *value);
/* Appends the exposition text. */
/* The gateway's open connections and live sessions (gauges). */
void metrics_gateway(int connections, int sessions);
void metrics_render(buf_t *out);
void metrics_reset(void);

#endif
