/*
 * veil-server media adapter: implements signaling's sig_media_ops_t over the SFU's C API
 * (sfu/sfu.h). It turns validated veil.v1 JSON (transport_connect, publish, subscribe)
 * into sfu_* calls, and the SFU's answers (ICE/DTLS parameters, subscription SSRCs) back
 * into JSON; it forwards transport state changes to the participant through the hub and
 * keeps the media counters /metrics shows.
 *
 * Ownership: the adapter owns the SFU worker and one record per joined participant
 * (freed when the SFU reports the participant closed). Everything runs on the server's
 * loop thread.
 */
#ifndef VEIL_SERVER_MEDIA_H
#define VEIL_SERVER_MEDIA_H

#include <stdint.h>
#include <uv.h>

#include "server/config.h"
#include "server/metrics.h"
#include "signaling/sig_hub.h"

typedef struct srv_media srv_media_t;

/* Binds the UDP socket (udp_host:udp_port; port 0 = kernel-chosen) and starts reading. */
int srv_media_new(uv_loop_t *loop, const srv_config_t *cfg, srv_media_t **out);
/* The hub that transport events are sent through (borrowed; set once it exists). */
void srv_media_set_hub(srv_media_t *m, sig_hub_t *hub);
const sig_media_ops_t *srv_media_ops(void);
uint16_t srv_media_port(const srv_media_t *m);
void srv_media_stats(const srv_media_t *m, srv_media_stats_t *out);
/* Closes the worker (every remaining room and participant); frees the adapter once the
 * SFU has released everything, then calls cb(arg). */
void srv_media_close(srv_media_t *m, void (*cb)(void *), void *arg);

#endif
