/*
 * veil-server metrics in the Prometheus text exposition format (version 0.0.4): every
 * family has its # HELP and # TYPE lines; counters end in _total; the join latency is a
 * histogram in seconds with cumulative buckets, _sum and _count.
 */
#ifndef VEIL_SERVER_METRICS_H
#define VEIL_SERVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signaling/sig_hub.h"

/* Media-plane counters (filled from the SFU when one is wired in). */
typedef struct srv_media_stats {
  uint64_t packets_in, packets_out, bytes_in, bytes_out;
  uint64_t srtp_errors, dtls_failures;
} srv_media_stats_t;

/* Renders the page; the caller frees the returned buffer (NULL on OOM). `media` may be
 * NULL when no media plane runs, and then its families are left out rather than shown
 * as zeros. */
char *srv_metrics_render(const sig_stats_t *st, const sig_relay_totals_t *relay, size_t ws_connections, bool draining,
                         const srv_media_stats_t *media, size_t *len);

#endif
