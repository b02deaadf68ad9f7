/* veil-server metrics page. Contract in metrics.h. */
#include "server/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

typedef struct buf {
  char *p;
  size_t len, cap;
  bool oom;
} buf_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(buf_t *b, const char *fmt, ...) {
  if (b->oom)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->oom = true;
      return;
    }
    if ((size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = b->cap * 2 + (size_t)n;
    char *q = realloc(b->p, cap);
    if (!q) {
      b->oom = true;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
}

static void family(buf_t *b, const char *name, const char *type, const char *help) {
  put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(buf_t *b, const char *name, const char *help, uint64_t v) {
  family(b, name, "gauge", help);
  put(b, "%s %llu\n", name, (unsigned long long)v);
}

static void counter(buf_t *b, const char *name, const char *help, uint64_t v) {
  family(b, name, "counter", help);
  put(b, "%s %llu\n", name, (unsigned long long)v);
}

char *srv_metrics_render(const sig_stats_t *st, const sig_relay_totals_t *relay, size_t conns, bool draining,
                         const srv_media_stats_t *media, size_t *len) {
  buf_t b = {malloc(4096), 0, 4096, false};
  if (!b.p)
    return NULL;
  gauge(&b, "veil_rooms", "Rooms open on this server.", st->rooms);
  gauge(&b, "veil_participants", "Participants joined to a room.", st->participants);
  gauge(&b, "veil_lobby_waiting", "Participants waiting in a lobby for admission.", st->lobby_waiting);
  gauge(&b, "veil_tracks", "Published tracks.", st->tracks);
  gauge(&b, "veil_subscriptions", "Track subscriptions.", st->subscriptions);
  gauge(&b, "veil_signaling_connections", "Open signaling WebSocket connections.", conns);
  gauge(&b, "veil_draining", "1 while the server drains after SIGTERM.", draining ? 1 : 0);
  counter(&b, "veil_signaling_messages_total", "Signaling text messages received.", st->messages_in);
  counter(&b, "veil_joins_total", "Participants admitted to a room.", st->joins_total);
  gauge(&b, "veil_participants_reconnecting", "Participants held for a resume after their connection was lost.",
        st->reconnecting);
  counter(&b, "veil_resumes_total", "Participants resumed by a new connection.", st->resumes_total);
  counter(&b, "veil_resume_expired_total", "Held participants whose reconnect grace ran out.", st->resume_expired);
  family(&b, "veil_signaling_errors_total", "counter", "Signaling errors sent to clients, by error code.");
  for (int i = 0; i < SIG_NCODES; i++) {
    if (!st->errors[i])
      continue;
    const char *code = i == 0 ? "other" : sig_error_wire_name(-10600 - i);
    put(&b, "veil_signaling_errors_total{code=\"%s\"} %llu\n", code, (unsigned long long)st->errors[i]);
  }
  family(&b, "veil_join_latency_seconds", "histogram",
         "Time from the WebSocket connection opening to the joined reply (lobby wait included).");
  uint64_t cum = 0;
  for (int i = 0; i < SIG_LAT_NBUCKETS; i++) {
    cum += st->lat_buckets[i];
    put(&b, "veil_join_latency_seconds_bucket{le=\"%g\"} %llu\n", sig_latency_bounds_ms[i] / 1000.0,
        (unsigned long long)cum);
  }
  cum += st->lat_buckets[SIG_LAT_NBUCKETS];
  put(&b, "veil_join_latency_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
  put(&b, "veil_join_latency_seconds_sum %.6f\n", st->lat_sum_ms / 1000.0);
  put(&b, "veil_join_latency_seconds_count %llu\n", (unsigned long long)st->lat_count);
  counter(&b, "veil_mls_messages_total", "Binary frames (MLS relay envelopes) received.", st->binary_in);
  counter(&b, "veil_mls_commits_accepted_total", "MLS commits the relay accepted (one per epoch).",
          relay->commits_accepted);
  counter(&b, "veil_mls_commits_rejected_total", "MLS commits the relay refused.", relay->commits_rejected);
  counter(&b, "veil_mls_messages_rejected_total", "MLS relay envelopes refused (commits included).",
          relay->messages_rejected);
  counter(&b, "veil_mls_leader_changes_total", "MLS leader failovers.", relay->leader_changes);
  counter(&b, "veil_mls_welcomes_delivered_total", "Joins completed by a delivered Welcome.",
          relay->welcomes_delivered);
  counter(&b, "veil_mls_rejoins_total", "Members told to rejoin the MLS group.", relay->rejoins);
  gauge(&b, "veil_mls_epoch_max", "Highest current MLS epoch among the open rooms.", relay->epoch_max);
  family(&b, "veil_mls_join_latency_seconds", "summary",
         "MLS join latency: KeyPackage received by the relay to the joiner's Welcome delivered.");
  put(&b, "veil_mls_join_latency_seconds_sum %.3f\n", relay->join_latency_sum_ms / 1000.0);
  put(&b, "veil_mls_join_latency_seconds_count %llu\n", (unsigned long long)relay->welcomes_delivered);
  family(&b, "veil_mls_join_latency_max_seconds", "gauge", "Longest MLS join (KeyPackage to Welcome) seen.");
  put(&b, "veil_mls_join_latency_max_seconds %.3f\n", relay->join_latency_max_ms / 1000.0);
  if (media) {
    counter(&b, "veil_packets_in_total", "UDP datagrams received by the media plane.", media->packets_in);
    counter(&b, "veil_packets_out_total", "UDP datagrams sent by the media plane.", media->packets_out);
    counter(&b, "veil_bytes_in_total", "UDP payload bytes received by the media plane.", media->bytes_in);
    counter(&b, "veil_bytes_out_total", "UDP payload bytes sent by the media plane.", media->bytes_out);
    counter(&b, "veil_srtp_errors_total", "SRTP/SRTCP packets that failed authentication or replay checks.",
            media->srtp_errors);
    counter(&b, "veil_dtls_failures_total", "DTLS handshakes that failed.", media->dtls_failures);
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  *len = b.len;
  return b.p;
}
