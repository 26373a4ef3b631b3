/*
 * metrics.c — see metrics.h.
 */
#include "http/metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0};
#define NB (sizeof(buckets) / sizeof(buckets[0]))

typedef struct {
	char *route;
	char method[8];
	int status;
	uint64_t count;
	double sum;
	uint64_t bucket[NB];
} series_t;

typedef struct {
	char *name, *label, *value;
	uint64_t count;
} counter_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static series_t *series;
static size_t nseries, capseries;
static counter_t *counters;
static size_t ncounters, capcounters;
static int inflight;
static int gw_conns, gw_sessions;
static int64_t started_ms;

void metrics_observe_request(const char *route, const char *method, int status, double seconds)
{
	pthread_mutex_lock(&mu);
	if (!started_ms)
		started_ms = time_now_ms();
	series_t *s = NULL;
	for (size_t i = 0; i < nseries; i++) {
		if (series[i].status == status && strcmp(series[i].route, route) == 0 &&
		    strcmp(series[i].method, method) == 0) {
			s = &series[i];
			break;
		}
	}
	if (!s) {
		if (nseries == capseries) {
			capseries = capseries ? capseries * 2 : 64;
			series = xrealloc(series, capseries * sizeof(*series));
		}
		s = &series[nseries++];
		memset(s, 0, sizeof(*s));
		s->route = xstrdup(route);
		str_copy(s->method, sizeof(s->method), method);
		s->status = status;
	}
	s->count++;
	s->sum += seconds;
	for (size_t b = 0; b < NB; b++)
		if (seconds <= buckets[b])
			s->bucket[b]++;
	pthread_mutex_unlock(&mu);
}

void metrics_inflight_add(int delta)
{
	__atomic_add_fetch(&inflight, delta, __ATOMIC_SEQ_CST);
}

int metrics_inflight(void)
{
	return __atomic_load_n(&inflight, __ATOMIC_SEQ_CST);
}

void metrics_count(const char *name, const char *label, const char *value)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < ncounters; i++) {
		counter_t *c = &counters[i];
		if (strcmp(c->name, name) == 0 && strcmp(c->label, label) == 0 &&
		    strcmp(c->value, value) == 0) {
			c->count++;
			pthread_mutex_unlock(&mu);
			return;
		}
	}
	if (ncounters == capcounters) {
		capcounters = capcounters ? capcounters * 2 : 16;
		counters = xrealloc(counters, capcounters * sizeof(*counters));
	}
	counters[ncounters++] = (counter_t){xstrdup(name), xstrdup(label), xstrdup(value), 1};
	pthread_mutex_unlock(&mu);
}

void metrics_render(buf_t *out)
{
	pthread_mutex_lock(&mu);
	buf_puts(out, "# HELP http_requests_total HTTP requests by route, method and status.\n"
		      "# TYPE http_requests_total counter\n");
	for (size_t i = 0; i < nseries; i++)
		buf_printf(out, "http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
			   series[i].route, series[i].method, series[i].status,
			   (unsigned long long)series[i].count);
	buf_puts(out, "# HELP http_request_duration_seconds Time from request start to response.\n"
		      "# TYPE http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < nseries; i++) {
		series_t *s = &series[i];
		char labels[256];
		snprintf(labels, sizeof(labels), "route=\"%s\",method=\"%s\",status=\"%d\"", s->route,
			 s->method, s->status);
		for (size_t b = 0; b < NB; b++)
			buf_printf(out, "http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", labels,
				   buckets[b], (unsigned long long)s->bucket[b]);
		buf_printf(out, "http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", labels,
			   (unsigned long long)s->count);
		buf_printf(out, "http_request_duration_seconds_sum{%s} %.6f\n", labels, s->sum);
		buf_printf(out, "http_request_duration_seconds_count{%s} %llu\n", labels,
			   (unsigned long long)s->count);
	}
	for (size_t i = 0; i < ncounters; i++) {
		bool first = true; /* one TYPE line per name, its samples together */
		for (size_t k = 0; k < i && first; k++)
			first = strcmp(counters[k].name, counters[i].name) != 0;
		if (!first)
			continue;
		buf_printf(out, "# TYPE %s counter\n", counters[i].name);
		for (size_t k = i; k < ncounters; k++) {
			counter_t *c = &counters[k];
			if (strcmp(c->name, counters[i].name) == 0)
				buf_printf(out, "%s{%s=\"%s\"} %llu\n", c->name, c->label, c->value,
					   (unsigned long long)c->count);
		}
	}
	pthread_mutex_unlock(&mu);
	buf_printf(out, "# TYPE http_requests_in_flight gauge\nhttp_requests_in_flight %d\n",
		   metrics_inflight());
	buf_printf(out,
		   "# TYPE gateway_connections gauge\ngateway_connections %d\n"
		   "# TYPE gateway_sessions gauge\ngateway_sessions %d\n",
		   __atomic_load_n(&gw_conns, __ATOMIC_RELAXED),
		   __atomic_load_n(&gw_sessions, __ATOMIC_RELAXED));
}

void metrics_gateway(int connections, int sessions)
{
	__atomic_store_n(&gw_conns, connections, __ATOMIC_RELAXED);
	__atomic_store_n(&gw_sessions, sessions, __ATOMIC_RELAXED);
}

void metrics_reset(void)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nseries; i++)
		free(series[i].route);
	free(series);
	series = NULL;
	nseries = capseries = 0;
	for (size_t i = 0; i < ncounters; i++) {
		free(counters[i].name);
		free(counters[i].label);
		free(counters[i].value);
	}
	free(counters);
	counters = NULL;
	ncounters = capcounters = 0;
	pthread_mutex_unlock(&mu);
}
