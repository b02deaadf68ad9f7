/*
 * veil-load — the one target. veil-load only ever talks to the server named by --url:
 * the WebSocket goes to that URL, and media goes only to addresses of that same host.
 * A media candidate the server announces for any other address is refused (a load
 * generator pointed at one deployment must not be redirectable at a third party by what
 * that deployment says).
 *
 * URL grammar accepted: ws:// or wss://, a host (name, IPv4, or [IPv6]), an optional
 * :port (1..65535), an optional path; no userinfo, no query, no fragment.
 */
#ifndef VEIL_CLIENTS_LOAD_TARGET_H
#define VEIL_CLIENTS_LOAD_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define LOAD_TARGET_MAX_ADDRS 8

typedef struct load_target {
  int tls;                        /* wss */
  char host[256];                 /* without brackets */
  uint16_t port;
  char path[256];
  size_t naddrs;                  /* resolved addresses of host (load_target_resolve) */
  struct sockaddr_storage addrs[LOAD_TARGET_MAX_ADDRS];
} load_target_t;

/* VEIL_EINVAL for anything outside the grammar above. */
int load_target_parse(const char *url, load_target_t *t);
/* Resolves host (getaddrinfo) once, at start; numeric hosts resolve without DNS. */
int load_target_resolve(load_target_t *t);
/* 1 if url names exactly the target (scheme, host, port), 0 otherwise. */
int load_target_same_url(const load_target_t *t, const char *url);
/* 1 if ip (numeric IPv4 or IPv6 text) is one of the target's resolved addresses. */
int load_target_allows_ip(const load_target_t *t, const char *ip);

#endif
