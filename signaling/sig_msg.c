/* veil — signaling message schemas and validation. Contract in sig_msg.h. */
#include "signaling/sig_msg.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "signaling/sig_jwt.h"
#include "signaling/sig_text.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ID_MAX 2147483647LL

/* ---- schemas (docs/protocol.md, "Client messages") ---- */

/* Every message may carry `type` and a request id `id` that replies echo. */
#define COMMON_FIELDS                                                                     \
  {.name = "type", .type = SIG_F_STR, .required = 1, .min = 1, .max = 32},               \
  {.name = "id", .type = SIG_F_INT, .min = 0, .max = ID_MAX}

static const char *const codec_names[] = {"opus", "vp8", "vp9", "h264", "av1", "rtx", "red", "ulpfec", NULL};
static const sig_field_t caps_f[] = {
    {.name = "codecs", .type = SIG_F_ARR_STR, .min = 0, .max = 16, .elem_max = 16},
    {.name = "simulcast", .type = SIG_F_BOOL},
    {.name = "svc", .type = SIG_F_BOOL},
    {.name = "data_channels", .type = SIG_F_BOOL},
    {.name = "mls", .type = SIG_F_BOOL},
};
static const sig_schema_t caps_s = {caps_f, N(caps_f)};

/* A resume (docs/protocol.md "Resuming"): the participant the client was, the token its
 * last `joined` carried, and the epoch of its saved MLS state (absent: no state). */
static const sig_field_t resume_f[] = {
    {.name = "participant_id", .type = SIG_F_IDENT, .required = 1, .min = 1, .max = 32},
    {.name = "token", .type = SIG_F_IDENT, .required = 1, .min = 1, .max = 64},
    {.name = "epoch", .type = SIG_F_INT, .min = 0, .max = 9223372036854775807LL},
};
static const sig_schema_t resume_s = {resume_f, N(resume_f)};

static const sig_field_t join_f[] = {
    COMMON_FIELDS,
    {.name = "token", .type = SIG_F_STR, .required = 1, .min = 1, .max = SIG_JWT_MAX_TOKEN},
    {.name = "room", .type = SIG_F_IDENT, .required = 1, .min = 1, .max = SIG_ROOM_MAX},
    {.name = "display_name", .type = SIG_F_STR, .min = 1, .max = SIG_NAME_MAX},
    {.name = "capabilities", .type = SIG_F_OBJ, .sub = &caps_s},
    {.name = "resume", .type = SIG_F_OBJ, .sub = &resume_s},
};
static const sig_field_t bare_f[] = {COMMON_FIELDS};

static const char *const dtls_roles[] = {"client", "server", "auto", NULL};
static const char *const fp_algs[] = {"sha-256", "sha-384", "sha-512", NULL};
static const sig_field_t fp_f[] = {
    {.name = "algorithm", .type = SIG_F_STR, .required = 1, .min = 1, .max = 16, .enums = fp_algs},
    {.name = "value", .type = SIG_F_STR, .required = 1, .min = 2, .max = 191},
};
static const sig_schema_t fp_s = {fp_f, N(fp_f)};
static const sig_field_t dtls_f[] = {
    {.name = "role", .type = SIG_F_STR, .required = 1, .min = 1, .max = 8, .enums = dtls_roles},
    {.name = "fingerprints", .type = SIG_F_ARR_OBJ, .required = 1, .min = 1, .max = 4, .sub = &fp_s},
};
static const sig_schema_t dtls_s = {dtls_f, N(dtls_f)};
/* ICE credentials: ufrag 4..256 and pwd 22..256 ice-chars (RFC 8839 §5.4). */
static const sig_field_t ice_f[] = {
    {.name = "ufrag", .type = SIG_F_STR, .required = 1, .min = 4, .max = 256},
    {.name = "pwd", .type = SIG_F_STR, .min = 22, .max = 256}, /* unused by an ICE-lite SFU */
};
static const sig_schema_t ice_s = {ice_f, N(ice_f)};
static const sig_field_t tconn_f[] = {
    COMMON_FIELDS,
    {.name = "dtls", .type = SIG_F_OBJ, .required = 1, .sub = &dtls_s},
    {.name = "ice", .type = SIG_F_OBJ, .required = 1, .sub = &ice_s},
};

static const char *const kinds[] = {"audio", "video", NULL};
static const char *const sources[] = {"microphone", "camera", "screen", "screen_audio", NULL};
static const sig_field_t codec_f[] = {
    {.name = "name", .type = SIG_F_STR, .required = 1, .min = 1, .max = 16, .enums = codec_names},
    {.name = "payload_type", .type = SIG_F_INT, .required = 1, .min = 96, .max = 127},
    {.name = "clock_rate", .type = SIG_F_INT, .required = 1, .min = 8000, .max = 192000},
    {.name = "channels", .type = SIG_F_INT, .min = 1, .max = 8},
};
static const sig_schema_t codec_s = {codec_f, N(codec_f)};
/* One-byte header extension ids are 1..14 (RFC 8285 §4.2). */
static const sig_field_t hext_f[] = {
    {.name = "uri", .type = SIG_F_STR, .required = 1, .min = 1, .max = 128},
    {.name = "id", .type = SIG_F_INT, .required = 1, .min = 1, .max = 14},
};
static const sig_schema_t hext_s = {hext_f, N(hext_f)};
/* One SSRC per track (and optionally its RTX SSRC): simulcast layers are separate tracks
 * in veil.v1, each published on its own. */
static const sig_field_t publish_f[] = {
    COMMON_FIELDS,
    {.name = "kind", .type = SIG_F_STR, .required = 1, .min = 1, .max = 8, .enums = kinds},
    {.name = "source", .type = SIG_F_STR, .min = 1, .max = 16, .enums = sources},
    {.name = "mid", .type = SIG_F_IDENT, .required = 1, .min = 1, .max = 16},
    {.name = "ssrc", .type = SIG_F_INT, .required = 1, .min = 1, .max = 4294967295LL},
    {.name = "rtx_ssrc", .type = SIG_F_INT, .min = 1, .max = 4294967295LL},
    {.name = "rid", .type = SIG_F_IDENT, .min = 1, .max = 16},
    {.name = "codec", .type = SIG_F_OBJ, .required = 1, .sub = &codec_s},
    {.name = "header_extensions", .type = SIG_F_ARR_OBJ, .min = 0, .max = 14, .sub = &hext_s},
};
static const sig_field_t track_f[] = {
    COMMON_FIELDS,
    {.name = "track_id", .type = SIG_F_IDENT, .required = 1, .min = 1, .max = 32},
};
static const sig_field_t peer_f[] = {
    COMMON_FIELDS,
    {.name = "participant_id", .type = SIG_F_IDENT, .required = 1, .min = 1, .max = 32},
};

static const struct {
  const char *name;
  sig_schema_t schema;
} types[SIG_MSG__COUNT] = {
    [SIG_MSG_JOIN] = {"join", {join_f, N(join_f)}},
    [SIG_MSG_PING] = {"ping", {bare_f, N(bare_f)}},
    [SIG_MSG_LEAVE] = {"leave", {bare_f, N(bare_f)}},
    [SIG_MSG_TRANSPORT_CONNECT] = {"transport_connect", {tconn_f, N(tconn_f)}},
    [SIG_MSG_PUBLISH] = {"publish", {publish_f, N(publish_f)}},
    [SIG_MSG_UNPUBLISH] = {"unpublish", {track_f, N(track_f)}},
    [SIG_MSG_SUBSCRIBE] = {"subscribe", {track_f, N(track_f)}},
    [SIG_MSG_UNSUBSCRIBE] = {"unsubscribe", {track_f, N(track_f)}},
    [SIG_MSG_ADMIT] = {"admit", {peer_f, N(peer_f)}},
    [SIG_MSG_REJECT] = {"reject", {peer_f, N(peer_f)}},
};

const char *sig_msg_type_name(sig_msg_type_t t) { return t < SIG_MSG__COUNT ? types[t].name : "unknown"; }

/* ---- the validator ---- */

static int why_set(char *why, size_t whylen, const char *fmt, const char *a, const char *b) {
  if (why && whylen)
    snprintf(why, whylen, fmt, a, b);
  return VEIL_ESIG_SCHEMA;
}

static int check_str(const sig_field_t *f, json_t *v, bool ident, char *why, size_t wl) {
  if (!json_is_string(v))
    return why_set(why, wl, "member '%s' must be a string%s", f->name, "");
  size_t len = json_string_length(v);
  const char *s = json_string_value(v);
  if ((long long)len < f->min || (long long)len > f->max)
    return why_set(why, wl, "member '%s' has a length out of range%s", f->name, "");
  if (!sig_text_ok(s, len, ident))
    return why_set(why, wl, "member '%s' has characters not allowed%s", f->name, "");
  if (f->enums) {
    for (const char *const *e = f->enums; *e; e++)
      if (strcmp(*e, s) == 0)
        return 0;
    return why_set(why, wl, "member '%s' has an unknown value%s", f->name, "");
  }
  return 0;
}

static int check_field(const sig_field_t *f, json_t *v, char *why, size_t wl) {
  size_t i;
  json_t *e;
  switch (f->type) {
  case SIG_F_STR:
    return check_str(f, v, false, why, wl);
  case SIG_F_IDENT:
    return check_str(f, v, true, why, wl);
  case SIG_F_INT:
    if (!json_is_integer(v))
      return why_set(why, wl, "member '%s' must be an integer%s", f->name, "");
    if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
      return why_set(why, wl, "member '%s' is out of range%s", f->name, "");
    return 0;
  case SIG_F_BOOL:
    return json_is_boolean(v) ? 0 : why_set(why, wl, "member '%s' must be a boolean%s", f->name, "");
  case SIG_F_OBJ:
    if (!json_is_object(v))
      return why_set(why, wl, "member '%s' must be an object%s", f->name, "");
    return sig_schema_check(f->sub, v, why, wl);
  case SIG_F_ARR_STR:
  case SIG_F_ARR_INT:
  case SIG_F_ARR_OBJ:
    if (!json_is_array(v))
      return why_set(why, wl, "member '%s' must be an array%s", f->name, "");
    if ((long long)json_array_size(v) < f->min || (long long)json_array_size(v) > f->max)
      return why_set(why, wl, "member '%s' has too few or too many elements%s", f->name, "");
    json_array_foreach(v, i, e) {
      if (f->type == SIG_F_ARR_STR) {
        if (!json_is_string(e) || json_string_length(e) == 0 || (long long)json_string_length(e) > f->elem_max ||
            !sig_text_ok(json_string_value(e), json_string_length(e), true))
          return why_set(why, wl, "member '%s' has an invalid element%s", f->name, "");
      } else if (f->type == SIG_F_ARR_INT) {
        if (!json_is_integer(e) || json_integer_value(e) < f->elem_min || json_integer_value(e) > f->elem_max)
          return why_set(why, wl, "member '%s' has an invalid element%s", f->name, "");
      } else {
        if (!json_is_object(e))
          return why_set(why, wl, "member '%s' has an element that is not an object%s", f->name, "");
        int rc = sig_schema_check(f->sub, e, why, wl);
        if (rc)
          return rc;
      }
    }
    return 0;
  }
  return why_set(why, wl, "member '%s' has no schema type%s", f->name, "");
}

int sig_schema_check(const sig_schema_t *s, json_t *obj, char *why, size_t wl) {
  const char *key;
  json_t *v;
  /* Unknown members first: a typo'd optional member must not be silently ignored. */
  json_object_foreach(obj, key, v) {
    size_t i;
    for (i = 0; i < s->n; i++)
      if (strcmp(s->fields[i].name, key) == 0)
        break;
    if (i == s->n) {
      char shown[40];
      snprintf(shown, sizeof shown, "%.32s", key);
      /* The echoed name comes from the peer: keep only printable ASCII. */
      for (char *p = shown; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '\'')
          *p = '?';
      return why_set(why, wl, "unknown member '%s'%s", shown, "");
    }
  }
  for (size_t i = 0; i < s->n; i++) {
    const sig_field_t *f = &s->fields[i];
    json_t *m = json_object_get(obj, f->name);
    if (!m) {
      if (f->required)
        return why_set(why, wl, "missing member '%s'%s", f->name, "");
      continue;
    }
    int rc = check_field(f, m, why, wl);
    if (rc)
      return rc;
  }
  return 0;
}

int sig_msg_parse(const char *data, size_t len, sig_msg_t *out, char *why, size_t wl, long long *id_out) {
  *id_out = -1;
  if (sig_json_depth_exceeds(data, len, SIG_MSG_MAX_DEPTH)) {
    why_set(why, wl, "nesting deeper than allowed%s%s", "", "");
    return VEIL_ESIG_MALFORMED;
  }
  json_error_t jerr;
  json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    why_set(why, wl, "not valid JSON (or a duplicate key)%s%s", "", "");
    return VEIL_ESIG_MALFORMED;
  }
  int rc = VEIL_ESIG_SCHEMA;
  if (!json_is_object(root)) {
    why_set(why, wl, "a message must be a JSON object%s%s", "", "");
    goto fail;
  }
  json_t *id = json_object_get(root, "id");
  if (json_is_integer(id) && json_integer_value(id) >= 0 && json_integer_value(id) <= ID_MAX)
    *id_out = json_integer_value(id);
  json_t *t = json_object_get(root, "type");
  if (!json_is_string(t)) {
    why_set(why, wl, "missing member 'type'%s%s", "", "");
    goto fail;
  }
  sig_msg_type_t mt;
  for (mt = 0; mt < SIG_MSG__COUNT; mt++)
    if (strcmp(types[mt].name, json_string_value(t)) == 0)
      break;
  if (mt == SIG_MSG__COUNT) {
    why_set(why, wl, "unknown message type%s%s", "", "");
    goto fail;
  }
  if ((rc = sig_schema_check(&types[mt].schema, root, why, wl)))
    goto fail;
  out->type = mt;
  out->root = root;
  out->id = *id_out;
  return 0;
fail:
  json_decref(root);
  return rc;
}

void sig_msg_release(sig_msg_t *m) {
  json_decref(m->root);
  m->root = NULL;
}

const char *sig_msg_str(const sig_msg_t *m, const char *name) {
  return json_string_value(json_object_get(m->root, name));
}

long long sig_msg_int(const sig_msg_t *m, const char *name, long long dflt) {
  json_t *v = json_object_get(m->root, name);
  return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int sig_msg_bool(const sig_msg_t *m, const char *name, int dflt) {
  json_t *v = json_object_get(m->root, name);
  return json_is_boolean(v) ? json_is_true(v) : dflt;
}
