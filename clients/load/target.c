/* veil-load target guard. Contract in target.h. */
#include "clients/load/target.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"

int load_target_parse(const char *url, load_target_t *t) {
  memset(t, 0, sizeof *t);
  const char *p;
  if (!strncmp(url, "ws://", 5)) p = url + 5;
  else if (!strncmp(url, "wss://", 6)) p = url + 6, t->tls = 1;
  else return VEIL_EINVAL;
  const char *hs = p, *he;
  if (*p == '[') {
    hs = ++p;
    he = strchr(p, ']');
    if (!he) return VEIL_EINVAL;
    p = he + 1;
  } else {
    while (*p && *p != ':' && *p != '/') p++;
    he = p;
  }
  size_t hl = (size_t)(he - hs);
  if (hl == 0 || hl >= sizeof t->host) return VEIL_EINVAL;
  for (const char *c = hs; c < he; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
          *c == '-' || *c == ':'))
      return VEIL_EINVAL; /* no userinfo '@', no '%' zone ids, no spaces */
  memcpy(t->host, hs, hl);
  t->port = t->tls ? 443 : 80;
  if (*p == ':') {
    p++;
    uint32_t port = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) port = port * 10 + (uint32_t)(*p++ - '0'), digits++;
    if (!digits || port == 0 || port > 65535) return VEIL_EINVAL;
    t->port = (uint16_t)port;
  }
  if (*p && *p != '/') return VEIL_EINVAL;
  if (strpbrk(p, "?#@ \t\r\n")) return VEIL_EINVAL;
  size_t pl = strlen(p);
  if (pl >= sizeof t->path) return VEIL_EINVAL;
  memcpy(t->path, pl ? p : "/", pl ? pl + 1 : 2);
  return 0;
}

int load_target_resolve(load_target_t *t) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
  int rc = getaddrinfo(t->host, NULL, &hints, &res);
  if (rc) return VEIL_ENOTFOUND;
  t->naddrs = 0;
  for (struct addrinfo *ai = res; ai && t->naddrs < LOAD_TARGET_MAX_ADDRS; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof t->addrs[0]) continue;
    memcpy(&t->addrs[t->naddrs++], ai->ai_addr, ai->ai_addrlen);
  }
  freeaddrinfo(res);
  return t->naddrs ? 0 : VEIL_ENOTFOUND;
}

int load_target_same_url(const load_target_t *t, const char *url) {
  load_target_t o;
  if (load_target_parse(url, &o)) return 0;
  return o.tls == t->tls && o.port == t->port && strcasecmp(o.host, t->host) == 0;
}

int load_target_allows_ip(const load_target_t *t, const char *ip) {
  struct in_addr a4;
  struct in6_addr a6;
  int is4 = inet_pton(AF_INET, ip, &a4) == 1;
  if (!is4 && inet_pton(AF_INET6, ip, &a6) != 1) return 0;
  for (size_t i = 0; i < t->naddrs; i++) {
    const struct sockaddr_storage *s = &t->addrs[i];
    if (is4 && s->ss_family == AF_INET && !memcmp(&((const struct sockaddr_in *)(const void *)s)->sin_addr, &a4, sizeof a4))
      return 1;
    if (!is4 && s->ss_family == AF_INET6 &&
        !memcmp(&((const struct sockaddr_in6 *)(const void *)s)->sin6_addr, &a6, sizeof a6))
      return 1;
  }
  return 0;
}
