/* SPDX-License-Identifier: MIT */
/*
 * tls_handshake.c - times TLS connections through s3root's HTTP client,
 * for bench/tls.sh: N connections that each start a new client (a full
 * handshake: no session to resume), then N connections of one client (the
 * first full, the others resuming its session). Each is a TCP connect and
 * a handshake, closed at once.
 *
 *   tls_handshake URL CA_FILE RESOLVE N
 *
 * prints "full MEAN_MS MEDIAN_MS" and "resumed MEAN_MS MEDIAN_MS".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "http/http.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, int n)
{
	double sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += ms[i];
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	printf("%s %.3f %.3f\n", what, sum / n, ms[n / 2]);
}

/* One connection: its time in ms, or a negative value. */
static double connect_once(struct http_client *c, const struct url *u)
{
	struct http_conn *conn;
	char err[512];
	double t0 = now_ms();

	if (http_conn_get(c, u, &conn, err, sizeof(err))) {
		fprintf(stderr, "tls_handshake: %s\n", err);
		return -1;
	}
	t0 = now_ms() - t0;
	http_conn_put(c, conn, 0);
	return t0;
}

int main(int argc, char **argv)
{
	struct http_client_config cfg = {
		.connect_timeout_ms = 10000,
		.io_timeout_ms = 10000,
		.min_time = 0,
		.max_idle = 1,
		.idle_timeout_ms = 1000,
	};
	struct http_client *c = NULL;
	struct url u;
	char err[512];
	double *ms;
	int n, i, ret = 1;

	if (argc != 5 || url_parse(argv[1], &u) || (n = atoi(argv[4])) < 2) {
		fprintf(stderr, "usage: tls_handshake URL CA_FILE RESOLVE N\n");
		return 2;
	}
	cfg.ca_file = argv[2];
	cfg.resolve = argv[3];
	ms = calloc((size_t)n, sizeof(*ms));
	if (!ms)
		return 1;
	for (i = 0; i < n; i++) {
		if (http_client_new(&c, &cfg, err, sizeof(err))) {
			fprintf(stderr, "tls_handshake: %s\n", err);
			goto out;
		}
		ms[i] = connect_once(c, &u);
		http_client_free(c);
		c = NULL;
		if (ms[i] < 0)
			goto out;
	}
	report("full", ms, n);
	if (http_client_new(&c, &cfg, err, sizeof(err))) {
		fprintf(stderr, "tls_handshake: %s\n", err);
		goto out;
	}
	if (connect_once(c, &u) < 0) /* the session to resume */
		goto out;
	for (i = 0; i < n; i++) {
		ms[i] = connect_once(c, &u);
		if (ms[i] < 0)
			goto out;
	}
	report("resumed", ms, n);
	ret = 0;
out:
	http_client_free(c);
	free(ms);
	return ret;
}
