/*
 * veil sfu — ICE-lite responder core (RFC 8445 §2.5, §7.3) with consent freshness
 * (RFC 7675). Sans-I/O: bytes, source address and `now` in; response bytes, events and a
 * deadline out.
 */
#include "sfu/ice.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

struct sfu_ice {
  char local_ufrag[SFU_ICE_CRED_MAX + 1];  /* owned copy */
  size_t local_ufrag_len;
  char local_pwd[SFU_ICE_CRED_MAX + 1];    /* owned copy; wiped by sfu_ice_free */
  size_t local_pwd_len;
  char remote_ufrag[SFU_ICE_CRED_MAX + 1]; /* owned copy; empty until known */
  size_t remote_ufrag_len;
  uint64_t consent_ms;
  sfu_ice_state_t state;
  sfu_stun_addr_t selected;                /* valid in SFU_ICE_SELECTED / EXPIRED */
  uint64_t last_consent_ms;                /* last valid check from `selected` */
};

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/". 64 characters, so one random
 * byte masked to 6 bits picks one without bias. */
static const char ice_chars[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int is_ice_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

/* 0 when s is min..SFU_ICE_CRED_MAX ice-chars. */
static int check_cred(const char *s, size_t min, size_t *len) {
  size_t n = strnlen(s, SFU_ICE_CRED_MAX + 1);
  if (n < min || n > SFU_ICE_CRED_MAX)
    return VEIL_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!is_ice_char(s[i]))
      return VEIL_EINVAL;
  *len = n;
  return 0;
}

int sfu_ice_random_string(char *buf, size_t cap, size_t n) {
  uint8_t rnd[SFU_ICE_CRED_MAX];
  if (n == 0 || n > SFU_ICE_CRED_MAX || cap < n + 1)
    return VEIL_EINVAL;
  if (RAND_bytes(rnd, (int)n) != 1)
    return VEIL_ECRYPTO;
  for (size_t i = 0; i < n; i++)
    buf[i] = ice_chars[rnd[i] & 63];
  buf[n] = '\0';
  OPENSSL_cleanse(rnd, n);
  return 0;
}

int sfu_ice_new(const sfu_ice_config_t *cfg, sfu_ice_t **out) {
  int rc;
  *out = NULL;
  sfu_ice_t *ice = calloc(1, sizeof(*ice));
  if (!ice)
    return VEIL_ENOMEM;
  if (cfg->local_ufrag) {
    if ((rc = check_cred(cfg->local_ufrag, SFU_ICE_UFRAG_MIN, &ice->local_ufrag_len)))
      goto fail;
    memcpy(ice->local_ufrag, cfg->local_ufrag, ice->local_ufrag_len);
  } else {
    if ((rc = sfu_ice_random_string(ice->local_ufrag, sizeof(ice->local_ufrag),
                                    SFU_ICE_UFRAG_LEN)))
      goto fail;
    ice->local_ufrag_len = SFU_ICE_UFRAG_LEN;
  }
  if (cfg->local_pwd) {
    if ((rc = check_cred(cfg->local_pwd, SFU_ICE_PWD_MIN, &ice->local_pwd_len)))
      goto fail;
    memcpy(ice->local_pwd, cfg->local_pwd, ice->local_pwd_len);
  } else {
    if ((rc = sfu_ice_random_string(ice->local_pwd, sizeof(ice->local_pwd), SFU_ICE_PWD_LEN)))
      goto fail;
    ice->local_pwd_len = SFU_ICE_PWD_LEN;
  }
  if (cfg->remote_ufrag && (rc = sfu_ice_set_remote_ufrag(ice, cfg->remote_ufrag)))
    goto fail;
  ice->consent_ms = cfg->consent_timeout_ms ? cfg->consent_timeout_ms
                                            : SFU_ICE_DEFAULT_CONSENT_MS;
  ice->state = SFU_ICE_WAITING;
  *out = ice;
  return 0;
fail:
  sfu_ice_free(ice);
  return rc;
}

void sfu_ice_free(sfu_ice_t *ice) {
  if (!ice)
    return;
  OPENSSL_cleanse(ice->local_pwd, sizeof(ice->local_pwd));
  free(ice);
}

int sfu_ice_set_remote_ufrag(sfu_ice_t *ice, const char *ufrag) {
  size_t n;
  /* The remote ufrag is the peer's choice; RFC 8445 §5.3 asks it for >= 4 characters but
   * accepting shorter ones costs nothing here: it only has to match exactly. */
  int rc = check_cred(ufrag, 1, &n);
  if (rc)
    return rc;
  memcpy(ice->remote_ufrag, ufrag, n);
  ice->remote_ufrag[n] = '\0';
  ice->remote_ufrag_len = n;
  return 0;
}

const char *sfu_ice_local_ufrag(const sfu_ice_t *ice) { return ice->local_ufrag; }
const char *sfu_ice_local_pwd(const sfu_ice_t *ice) { return ice->local_pwd; }
sfu_ice_state_t sfu_ice_state(const sfu_ice_t *ice) { return ice->state; }

int sfu_ice_selected(const sfu_ice_t *ice, sfu_stun_addr_t *out) {
  if (ice->state != SFU_ICE_SELECTED)
    return VEIL_ENOTFOUND;
  *out = ice->selected;
  return 0;
}

uint64_t sfu_ice_next_deadline(const sfu_ice_t *ice) {
  if (ice->state != SFU_ICE_SELECTED)
    return SFU_ICE_NO_DEADLINE;
  if (ice->last_consent_ms > UINT64_MAX - ice->consent_ms)
    return SFU_ICE_NO_DEADLINE;
  return ice->last_consent_ms + ice->consent_ms;
}

int sfu_ice_on_timeout(sfu_ice_t *ice, uint64_t now_ms, sfu_ice_result_t *res) {
  memset(res, 0, sizeof(*res));
  switch (ice->state) {
  case SFU_ICE_WAITING:
  case SFU_ICE_EXPIRED:
    return 0;
  case SFU_ICE_SELECTED:
    if (now_ms >= sfu_ice_next_deadline(ice)) {
      /* RFC 7675 §5.1: no consent for the timeout period: stop using the pair. */
      ice->state = SFU_ICE_EXPIRED;
      res->events |= SFU_ICE_EV_EXPIRED;
    }
    return 0;
  }
  abort(); /* impossible state */
}

/* USERNAME must be exactly "<local ufrag>:<remote ufrag>" (RFC 8445 §7.3: the receiver
 * checks its own ufrag on the left; we also require the signalled remote ufrag). */
static int username_matches(const sfu_ice_t *ice, veil_view_t u) {
  size_t want = ice->local_ufrag_len + 1 + ice->remote_ufrag_len;
  if (u.len != want)
    return 0;
  return memcmp(u.ptr, ice->local_ufrag, ice->local_ufrag_len) == 0 &&
         u.ptr[ice->local_ufrag_len] == ':' &&
         memcmp(u.ptr + ice->local_ufrag_len + 1, ice->remote_ufrag,
                ice->remote_ufrag_len) == 0;
}

int sfu_ice_handle_stun(sfu_ice_t *ice, const uint8_t *pkt, size_t len,
                        const sfu_stun_addr_t *from, uint64_t now_ms, uint8_t *out,
                        size_t out_cap, sfu_ice_result_t *res) {
  sfu_stun_msg_t m;
  int rc;
  memset(res, 0, sizeof(*res));
  /* A late timer must not let a check arriving after the deadline revive the pair. The
   * transition itself is left to sfu_ice_on_timeout (the deadline is already due), so
   * that a dropped datagram never carries an event the caller might ignore. */
  if (ice->state == SFU_ICE_EXPIRED ||
      (ice->state == SFU_ICE_SELECTED && now_ms >= sfu_ice_next_deadline(ice)))
    return VEIL_EICE_EXPIRED;
  if ((rc = sfu_stun_parse(pkt, len, &m)))
    return rc;
  if (m.method != SFU_STUN_METHOD_BINDING || m.cls != SFU_STUN_REQUEST)
    return VEIL_EICE_NOTREQUEST;
  if (ice->remote_ufrag_len == 0)
    return VEIL_EICE_NOREMOTE;
  if (!(m.present & SFU_STUN_HAS_USERNAME) || !username_matches(ice, m.username))
    return VEIL_EICE_USERNAME;
  /* The cheap CRC first: it rejects corrupted datagrams before the HMAC. */
  if ((m.present & SFU_STUN_HAS_FINGERPRINT) && (rc = sfu_stun_verify_fingerprint(&m)))
    return rc;
  const uint8_t *key = (const uint8_t *)ice->local_pwd;
  if ((rc = sfu_stun_verify_integrity(&m, key, ice->local_pwd_len)))
    return rc;

  /* Authenticated from here on: answer, but only a clean request changes state. */
  uint16_t err = 0;
  int controlling = (m.present & SFU_STUN_HAS_ICE_CONTROLLING) != 0;
  int controlled = (m.present & SFU_STUN_HAS_ICE_CONTROLLED) != 0;
  if (m.n_unknown)
    err = 420; /* RFC 8489 §6.3.1 */
  else if (controlling == controlled)
    err = 400; /* RFC 8445 §7.2.2: exactly one role attribute */
  else if (controlled)
    err = 487; /* RFC 8445 §7.3.1.1: we are controlled and cannot switch (lite) */
  if (err) {
    size_t n_unknown = m.n_unknown < SFU_STUN_MAX_UNKNOWN ? m.n_unknown : SFU_STUN_MAX_UNKNOWN;
    rc = sfu_stun_encode_error(out, out_cap, SFU_STUN_METHOD_BINDING, m.tid, err,
                               err == 420 ? m.unknown : NULL, err == 420 ? n_unknown : 0,
                               key, ice->local_pwd_len, &res->response_len);
    if (rc)
      res->response_len = 0;
    return rc;
  }
  rc = sfu_stun_encode_binding_success(out, out_cap, m.tid, from, key, ice->local_pwd_len,
                                       &res->response_len);
  if (rc) {
    res->response_len = 0;
    return rc;
  }
  /* RFC 8445 §7.3.1.5 / §8.2: a lite agent selects the pair a valid USE-CANDIDATE check
   * arrived on; a later nomination from another address moves the selection. */
  if (m.present & SFU_STUN_HAS_USE_CANDIDATE) {
    if (ice->state == SFU_ICE_WAITING) {
      ice->state = SFU_ICE_SELECTED;
      ice->selected = *from;
      res->events |= SFU_ICE_EV_SELECTED;
    } else if (!sfu_stun_addr_equal(&ice->selected, from)) {
      ice->selected = *from;
      res->events |= SFU_ICE_EV_SWITCHED;
    }
    ice->last_consent_ms = now_ms;
  } else if (ice->state == SFU_ICE_SELECTED && sfu_stun_addr_equal(&ice->selected, from) &&
             now_ms > ice->last_consent_ms) {
    /* RFC 7675 §5.1: a valid check on the selected pair renews consent. */
    ice->last_consent_ms = now_ms;
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------
 * Candidates
 */
uint32_t sfu_ice_priority(uint8_t type_pref, uint16_t local_pref, uint16_t component) {
  return ((uint32_t)type_pref << 24) + ((uint32_t)local_pref << 8) + (256u - (component & 0xff));
}

int sfu_ice_host_candidate(sfu_ice_candidate_t *c, const sfu_stun_addr_t *addr,
                           uint16_t local_index) {
  if (addr->family != 4 && addr->family != 6)
    return VEIL_EINVAL;
  memset(c, 0, sizeof(*c));
  /* §5.1.1.3: same type, base and protocol share a foundation; distinct local addresses
   * are distinct bases. */
  snprintf(c->foundation, sizeof(c->foundation), "%u%u", (unsigned)addr->family,
           (unsigned)local_index);
  c->component = 1;
  /* §5.1.2.2: host type preference 126; IPv6 preferred over IPv4 (RFC 8421 spirit),
   * then lower index first. */
  uint16_t local_pref = (uint16_t)((addr->family == 6 ? 0xC000u : 0x8000u) -
                                   (local_index & 0x3fff));
  c->priority = sfu_ice_priority(126, local_pref, c->component);
  c->addr = *addr;
  return 0;
}

int sfu_ice_candidate_format(const sfu_ice_candidate_t *c, char *buf, size_t cap) {
  char ip[INET6_ADDRSTRLEN];
  if (!inet_ntop(c->addr.family == 6 ? AF_INET6 : AF_INET, c->addr.addr, ip, sizeof(ip)))
    return VEIL_EINVAL;
  int n = snprintf(buf, cap, "candidate:%s %u udp %u %s %u typ host", c->foundation,
                   (unsigned)c->component, (unsigned)c->priority, ip, (unsigned)c->addr.port);
  if (n < 0 || (size_t)n >= cap)
    return VEIL_EOVERFLOW;
  return 0;
}
