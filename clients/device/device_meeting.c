/* veil — a room device in a meeting. Contract in device_meeting.h. */
#include "clients/device/device_meeting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/mls/suite.h"
#include "clients/lib/session/vs_session.h"
#include "common/err.h"

#define MEETING_STR_MAX 4096

struct device_meeting {
  device_meeting_config_t cfg;
  char *url, *pin, *ca, *token, *room, *name; /* owned copies */
  vs_identity_t id;                           /* owned: holds the unsealed key */
  vs_session_t *s;                            /* owned */
  int in_call, ended, closed;
  device_call_info_t info;
  json_t *seen; /* owned: "leaf-N" -> the roster entry last given to the device */
};

static char *dup_opt(const char *s, int *bad) {
  if (!s)
    return NULL;
  char *d = strlen(s) < MEETING_STR_MAX ? strdup(s) : NULL;
  if (!d)
    *bad = 1;
  return d;
}

static x509_level_t level_of(const char *name) {
  for (int l = X509_UNVERIFIED; l <= X509_EXTERNALLY_VERIFIED; l++)
    if (name && strcmp(name, x509_level_name((x509_level_t)l)) == 0)
      return (x509_level_t)l;
  return X509_UNVERIFIED;
}

/* The part of a roster entry the device shows: a change here is an Updated event. */
static json_t *shown(json_t *m) {
  return json_pack("{s:O?,s:O?,s:O?,s:O?}", "identity", json_object_get(m, "identity"), "verification",
                   json_object_get(m, "verification"), "display_name", json_object_get(m, "display_name"),
                   "certificate", json_object_get(m, "certificate"));
}

static int upsert(device_meeting_t *m, const char *key, json_t *entry) {
  verify_status_t st;
  memset(&st, 0, sizeof st);
  st.level = level_of(json_string_value(json_object_get(entry, "verification")));
  const char *idn = json_string_value(json_object_get(entry, "identity"));
  const char *dn = json_string_value(json_object_get(entry, "display_name"));
  snprintf(st.identity, sizeof st.identity, "%s", idn ? idn : "");
  snprintf(st.display_name, sizeof st.display_name, "%s", dn ? dn : "");
  json_t *cert = json_object_get(entry, "certificate");
  st.details_json = json_is_object(cert) ? json_dumps(cert, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  int rc = device_roster_upsert(m->cfg.dev, m->cfg.call_id, key, &st);
  free(st.details_json);
  return rc;
}

static void apply_roster(device_meeting_t *m, json_t *roster) {
  json_t *now = json_object();
  size_t i;
  json_t *e;
  if (!now)
    return;
  json_array_foreach(roster, i, e) {
    char key[32];
    snprintf(key, sizeof key, "leaf-%lld", (long long)json_integer_value(json_object_get(e, "leaf")));
    json_t *v = shown(e);
    if (v)
      json_object_set_new(now, key, v);
  }
  /* departures first, so that a reused leaf shows Deleted before Added */
  const char *key;
  json_t *old, *tmp;
  json_object_foreach_safe(m->seen, tmp, key, old) {
    json_t *cur = json_object_get(now, key);
    if (!cur || !json_equal(json_object_get(cur, "identity"), json_object_get(old, "identity"))) {
      device_roster_remove(m->cfg.dev, m->cfg.call_id, key);
      json_object_del(m->seen, key);
    }
  }
  json_array_foreach(roster, i, e) {
    char k[32];
    snprintf(k, sizeof k, "leaf-%lld", (long long)json_integer_value(json_object_get(e, "leaf")));
    json_t *cur = json_object_get(now, k);
    if (!cur || json_equal(cur, json_object_get(m->seen, k)))
      continue;
    if (upsert(m, k, e) == 0)
      json_object_set(m->seen, k, cur);
  }
  json_decref(now);
}

static void end_call(device_meeting_t *m, int rc) {
  if (m->in_call)
    device_call_end(m->cfg.dev, m->cfg.call_id);
  m->in_call = 0;
  json_object_clear(m->seen);
  if (!m->ended && m->cfg.on_end) {
    m->ended = 1;
    m->cfg.on_end(m->cfg.arg, rc);
  }
}

static void on_event(void *arg, json_t *ev) {
  device_meeting_t *m = arg;
  const char *e = json_string_value(json_object_get(ev, "event"));
  if (!e || m->closed)
    return;
  if (!strcmp(e, "epoch")) {
    /* The group exists from the first epoch on: the call is end-to-end encrypted. */
    if (!m->in_call) {
      if (device_call_begin(m->cfg.dev, m->cfg.call_id, &m->info) == 0)
        m->in_call = 1;
    }
  } else if (!strcmp(e, "security_code")) {
    const char *code = json_string_value(json_object_get(ev, "code"));
    snprintf(m->info.security_code, sizeof m->info.security_code, "%s", code ? code : "");
    if (m->in_call)
      device_call_update(m->cfg.dev, m->cfg.call_id, &m->info);
  } else if (!strcmp(e, "roster")) {
    if (m->in_call)
      apply_roster(m, json_object_get(ev, "roster"));
  } else if (!strcmp(e, "removed") || !strcmp(e, "left")) {
    end_call(m, 0);
  } else if (!strcmp(e, "signaling_closed")) {
    end_call(m, VEIL_EIO);
  }
}

int device_meeting_start(const device_meeting_config_t *cfg, device_meeting_t **out) {
  *out = NULL;
  if (!cfg->loop || !cfg->dev || !cfg->url || !cfg->token || !cfg->room)
    return VEIL_EINVAL;
  device_meeting_t *m = calloc(1, sizeof *m);
  if (!m)
    return VEIL_ENOMEM;
  m->cfg = *cfg;
  int bad = 0;
  m->url = dup_opt(cfg->url, &bad);
  m->pin = dup_opt(cfg->pin_sha256, &bad);
  m->ca = dup_opt(cfg->ca_file, &bad);
  m->token = dup_opt(cfg->token, &bad);
  m->room = dup_opt(cfg->room, &bad);
  m->name = dup_opt(cfg->display_name, &bad);
  m->seen = json_object();
  int rc = VEIL_ENOMEM;
  if (bad || !m->seen)
    goto fail;
  uint8_t priv[32];
  veil_view_t chain[X509_CHAIN_MAX];
  size_t n = 0;
  if ((rc = device_identity_key(cfg->dev, priv, chain, &n)))
    goto fail;
  /* The device accepts only ECDSA P-256 identity keys (device_state.h). */
  rc = vs_identity_from_key(VC_ECDSA_P256_SHA256, priv, chain, n, &m->id);
  vc_wipe(priv, sizeof priv);
  if (rc)
    goto fail;
  m->info.e2ee = 1;
  snprintf(m->info.media_encryption, sizeof m->info.media_encryption, "SFrame AES_128_GCM_SHA256_128");
  snprintf(m->info.group_encryption, sizeof m->info.group_encryption, "%s",
           m->id.suite == MLS_SUITE_P256_AES128GCM_SHA256_P256 ? "MLS_128_DHKEMP256_AES128GCM_SHA256_P256"
                                                                : "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  vs_session_config_t sc = {
      .loop = cfg->loop, .url = m->url, .pin_sha256 = m->pin, .ca_file = m->ca, .token = m->token,
      .room = m->room, .display_name = m->name, .identity = &m->id, .trust = cfg->trust,
      .publish_audio = 1, .publish_video = 1, .on_event = on_event, .arg = m,
  };
  if ((rc = vs_session_new(&sc, &m->s)) || (rc = vs_session_start(m->s)))
    goto fail;
  *out = m;
  return 0;
fail:
  if (m->s) {
    /* started handles need the loop to close: hand back a closed meeting instead */
    m->closed = 1;
    vs_session_close(m->s);
    *out = m;
    return rc;
  }
  device_meeting_free(m);
  return rc;
}

void device_meeting_close(device_meeting_t *m) {
  if (!m || m->closed)
    return;
  end_call(m, 0);
  m->closed = 1;
  vs_session_close(m->s);
}

void device_meeting_free(device_meeting_t *m) {
  if (!m)
    return;
  vs_session_free(m->s);
  vs_identity_free(&m->id);
  json_decref(m->seen);
  free(m->url);
  free(m->pin);
  free(m->ca);
  if (m->token) {
    vc_wipe(m->token, strlen(m->token));
    free(m->token);
  }
  free(m->room);
  free(m->name);
  free(m);
}
