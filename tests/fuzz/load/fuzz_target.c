/* Fuzz target: load_target_parse (clients/load/target.c), the --url grammar that also judges
 * URLs the server names (load_target_same_url). Invariants of an accepted URL: scheme is
 * ws/wss, host is 1..255 bytes of [A-Za-z0-9.:-], port 1..65535, path starts with '/' and
 * has none of "?#@" or whitespace; re-serialising it parses back to the same target and
 * same_url agrees. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/load/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 2048) return 0;
  char *url = malloc(size + 1);
  if (!url) return 0;
  memcpy(url, data, size);
  url[size] = 0;
  load_target_t t;
  if (load_target_parse(url, &t) == 0) {
    size_t hl = strnlen(t.host, sizeof t.host), pl = strnlen(t.path, sizeof t.path);
    if (hl == 0 || hl >= sizeof t.host || pl == 0 || pl >= sizeof t.path) abort();
    if (strspn(t.host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") != hl) abort();
    if (t.path[0] != '/' || strpbrk(t.path, "?#@ \t\r\n")) abort();
    if (t.port == 0 || t.naddrs != 0) abort();
    if (strncmp(url, t.tls ? "wss://" : "ws://", t.tls ? 6 : 5)) abort();
    if (!load_target_same_url(&t, url)) abort();
    /* serialise -> parse: the same target */
    char again[700];
    int host6 = strchr(t.host, ':') != NULL;
    snprintf(again, sizeof again, "%s://%s%s%s:%u%s", t.tls ? "wss" : "ws", host6 ? "[" : "", t.host,
             host6 ? "]" : "", t.port, t.path);
    load_target_t u;
    if (load_target_parse(again, &u) != 0) abort();
    if (u.tls != t.tls || u.port != t.port || strcmp(u.host, t.host) || strcmp(u.path, t.path)) abort();
    if (!load_target_same_url(&t, again)) abort();
    /* no resolved addresses: nothing is allowed */
    if (load_target_allows_ip(&t, "127.0.0.1") || load_target_allows_ip(&t, "::1")) abort();
  }
  free(url);
  return 0;
}
