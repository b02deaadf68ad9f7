/*
 * veil — a room device's xAPI commands, statuses and configurations, and its calls and
 * rosters (contract in device_state.h).
 *
 * Responses follow the real xAPI terminal form: "*r <Name>Result (status=OK|Error):" lines
 * for commands, "*s <path>: <value>" for statuses, "*c xConfiguration <path>: <value>" for
 * configurations, "*e <path> <field>: <value>" for events, each block ending with "** end".
 * Statuses are produced as one list and filtered by the requested path prefix, so every
 * prefix query (`xStatus Conference Call 1`) answers the same way as the full tree.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clients/device/device_internal.h"
#include "common/hex.h"

void dev_out(veil_writer_t *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    veil_writer_fail(w, VEIL_EINVAL);
    return;
  }
  uint8_t *p = veil_writer_reserve(w, (size_t)n + 1);
  if (!p)
    return;
  va_start(ap, fmt);
  vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  veil_writer_advance(w, (size_t)n);
}

void dev_out_quoted(veil_writer_t *w, const char *s) {
  veil_write_u8(w, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c == 0x7f)
      continue; /* a value never breaks the line it is on */
    if (c == '"' || c == '\\')
      veil_write_u8(w, '\\');
    veil_write_u8(w, c);
  }
  veil_write_u8(w, '"');
}

static const char *level_word(x509_level_t l) {
  switch (l) {
  case X509_EXTERNALLY_VERIFIED:
    return "ExternallyVerified";
  case X509_OPERATOR_VERIFIED:
    return "OperatorVerified";
  case X509_UNVERIFIED:
    break;
  }
  return "Unverified";
}

static void result_error(veil_writer_t *w, const char *name, int rc) {
  dev_out(w, "*r %sResult (status=Error):\n*r %sResult Reason: ", name, name);
  dev_out_quoted(w, veil_strerror(rc));
  dev_out(w, "\n*r %sResult Code: %d\n** end\n", name, rc);
}

void device_report_parse_error(int rc, veil_writer_t *out) { result_error(out, "", rc); }

/* ---- statuses ------------------------------------------------------------------------ */

typedef struct status_walk {
  const xapi_cmd_t *cmd; /* the query: path words to match as a prefix */
  veil_writer_t *w;
  const char *mark; /* "*s " or "*c xConfiguration " */
  size_t hits;
} status_walk_t;

/* Emits "<mark><path>: <value>" when `path` (space-separated) starts with the query. */
static void emit(status_walk_t *s, const char *path, const char *value, int quoted) {
  const char *p = path;
  for (size_t i = 0; i < s->cmd->npath; i++) {
    size_t n = strlen(s->cmd->path[i]);
    if (strncasecmp(p, s->cmd->path[i], n) != 0 || (p[n] != ' ' && p[n] != '\0'))
      return;
    p += n;
    while (*p == ' ')
      p++;
  }
  s->hits++;
  dev_out(s->w, "%s%s: ", s->mark, path);
  if (quoted)
    dev_out_quoted(s->w, value);
  else
    dev_out(s->w, "%s", value);
  dev_out(s->w, "\n");
}

static int identity_statuses(const device_t *d, status_walk_t *s, const char *which, int ext) {
  dev_identity_view_t v;
  int rc = ext ? dev_external_identity(d, &v) : dev_internal_identity(d, &v);
  if (rc)
    return rc;
  char path[128];
  snprintf(path, sizeof path, "Conference EndToEndEncryption %s Valid", which);
  emit(s, path, v.valid ? "True" : "False", 0);
  snprintf(path, sizeof path, "Conference EndToEndEncryption %s Identity", which);
  emit(s, path, v.identity, 1);
  snprintf(path, sizeof path, "Conference EndToEndEncryption %s CertInfo", which);
  emit(s, path, v.certinfo ? v.certinfo : "", 1);
  free(v.certinfo);
  return 0;
}

static int all_statuses(const device_t *d, status_walk_t *s) {
  char path[192];
  emit(s, "SystemUnit Name", d->name, 1);
  emit(s, "Security ClientSecret Populated", d->has_secret ? "True" : "False", 0);
  char salt[DEVICE_SALT_LEN * 2 + 1] = "";
  if (d->has_secret)
    veil_b64url_encode(d->salt, DEVICE_SALT_LEN, salt);
  emit(s, "Security ClientSecret Salt", salt, 1);
  dev_identity_view_t ext, in;
  int rc = dev_external_identity(d, &ext);
  if (rc)
    return rc;
  rc = dev_internal_identity(d, &in);
  if (rc) {
    free(ext.certinfo);
    return rc;
  }
  int avail = d->mode_on && (ext.valid || in.valid);
  free(ext.certinfo);
  free(in.certinfo);
  emit(s, "Conference EndToEndEncryption Availability", avail ? "Available" : "NotAvailable", 0);
  if ((rc = identity_statuses(d, s, "ExternalIdentity", 1)) ||
      (rc = identity_statuses(d, s, "InternalIdentity", 0)))
    return rc;
  for (size_t i = 0; i < DEVICE_CALLS_MAX; i++) {
    const dev_call_t *c = &d->calls[i];
    if (!c->used)
      continue;
#define CALL_PATH(fmt, ...) snprintf(path, sizeof path, "Conference Call %u EndToEndEncryption " fmt, c->id, ##__VA_ARGS__)
    CALL_PATH("Status");
    emit(s, path, c->info.e2ee ? "On" : "Off", 0);
    CALL_PATH("SecurityCode");
    emit(s, path, c->info.security_code, 1);
    CALL_PATH("MediaEncryption Type");
    emit(s, path, c->info.media_encryption, 1);
    CALL_PATH("GroupEncryption Type");
    emit(s, path, c->info.group_encryption, 1);
    for (size_t j = 0; j < c->n; j++) {
      const dev_participant_t *p = &c->roster[j];
      CALL_PATH("Roster Participant %u Id", p->index);
      emit(s, path, p->id, 1);
      CALL_PATH("Roster Participant %u Status", p->index);
      emit(s, path, level_word(p->level), 0);
      CALL_PATH("Roster Participant %u Identity", p->index);
      emit(s, path, p->identity, 1);
      CALL_PATH("Roster Participant %u DisplayName", p->index);
      emit(s, path, p->display_name, 1);
      CALL_PATH("Roster Participant %u CertInfo", p->index);
      emit(s, path, p->certinfo ? p->certinfo : "", 1);
    }
#undef CALL_PATH
  }
  return 0;
}

static int do_status(device_t *d, const xapi_cmd_t *cmd, veil_writer_t *w) {
  if (cmd->nargs || cmd->has_body) {
    result_error(w, "Status", VEIL_EXAPI_ARG);
    return VEIL_EXAPI_ARG;
  }
  status_walk_t s = {.cmd = cmd, .w = w, .mark = "*s "};
  size_t mark = w->len;
  int rc = all_statuses(d, &s);
  if (!rc && s.hits == 0)
    rc = VEIL_EXAPI_UNKNOWN;
  if (rc) {
    w->len = mark; /* drop partial output */
    result_error(w, "Status", rc);
    return rc;
  }
  dev_out(w, "** end\n");
  return 0;
}

/* ---- configurations ------------------------------------------------------------------ */

static int valid_domain(const char *s, size_t n) {
  if (n >= 254)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '.'))
      return 0;
  }
  return 1;
}

static int do_configuration(device_t *d, const xapi_cmd_t *cmd, veil_writer_t *w) {
  int rc = 0;
  if (cmd->has_body || cmd->nargs > 1) {
    rc = VEIL_EXAPI_ARG;
    goto fail;
  }
  if (cmd->nargs == 0) {
    status_walk_t s = {.cmd = cmd, .w = w, .mark = "*c xConfiguration "};
    emit(&s, "Conference EndToEndEncryption Mode", d->mode_on ? "On" : "Off", 0);
    emit(&s, "Conference EndToEndEncryption Identity PreferredDomain", d->preferred_domain, 1);
    if (!s.hits) {
      rc = VEIL_EXAPI_UNKNOWN;
      goto fail;
    }
    dev_out(w, "** end\n");
    return 0;
  }
  const xapi_arg_t *a = &cmd->args[0];
  if (xapi_path_is(cmd, 0, "Conference EndToEndEncryption", 1) && strcasecmp(a->key, "Mode") == 0) {
    if (strcasecmp(a->value, "On") && strcasecmp(a->value, "Off")) {
      rc = VEIL_EXAPI_ARG;
      goto fail;
    }
    d->mode_on = strcasecmp(a->value, "On") == 0;
  } else if (xapi_path_is(cmd, 0, "Conference EndToEndEncryption Identity", 1) &&
             strcasecmp(a->key, "PreferredDomain") == 0) {
    if (!valid_domain(a->value, a->value_len)) {
      rc = VEIL_EXAPI_ARG;
      goto fail;
    }
    snprintf(d->preferred_domain, sizeof d->preferred_domain, "%s", a->value);
  } else {
    rc = VEIL_EXAPI_UNKNOWN;
    goto fail;
  }
  d->gen++;
  dev_out(w, "** end\n");
  return 0;
fail:
  result_error(w, "Configuration", rc);
  return rc;
}

/* ---- commands ---------------------------------------------------------------------- */

typedef enum cmd_id {
  CMD_POPULATE,
  CMD_ADD,
  CMD_SHOW,
  CMD_ACTIVATE,
  CMD_DEACTIVATE,
  CMD_DELETE,
  CMD_SEARCH,
} cmd_id_t;

/* The legal commands as a table: path, result name, allowed/required arguments, body. */
static const struct command {
  cmd_id_t id;
  const char *path;
  const char *result;
  const char *args[3]; /* allowed arguments */
  unsigned required;   /* bit i: args[i] is required */
  int body;
} commands[] = {
    {CMD_POPULATE, "Security ClientSecret Populate", "ClientSecretPopulate", {"Secret"}, 1, 0},
    {CMD_ADD, "Security Certificates Services Add", "ServicesAdd", {0}, 0, 1},
    {CMD_SHOW, "Security Certificates Services Show", "ServicesShow", {0}, 0, 0},
    {CMD_ACTIVATE, "Security Certificates Services Activate", "ServicesActivate",
     {"Purpose", "Fingerprint"}, 3, 0},
    {CMD_DEACTIVATE, "Security Certificates Services Deactivate", "ServicesDeactivate",
     {"Purpose", "Fingerprint"}, 3, 0},
    {CMD_DELETE, "Security Certificates Services Delete", "ServicesDelete", {"Fingerprint"}, 1, 0},
    {CMD_SEARCH, "Conference ParticipantList Search", "ParticipantListSearch",
     {"CallId", "Limit", "Offset"}, 0, 0},
};

static const struct command *lookup(const xapi_cmd_t *cmd) {
  if (cmd->kind != XAPI_COMMAND)
    return NULL;
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (xapi_path_is(cmd, 0, commands[i].path, 1))
      return &commands[i];
  return NULL;
}

int device_takes_body(void *d, const xapi_cmd_t *cmd) {
  (void)d;
  const struct command *c = lookup(cmd);
  return c && c->body;
}

static int check_args(const struct command *c, const xapi_cmd_t *cmd) {
  if (!!cmd->has_body != !!c->body)
    return VEIL_EXAPI_ARG;
  for (size_t i = 0; i < cmd->nargs; i++) {
    int known = 0;
    for (size_t j = 0; j < 3 && c->args[j]; j++)
      known |= strcasecmp(cmd->args[i].key, c->args[j]) == 0;
    if (!known)
      return VEIL_EXAPI_ARG;
  }
  for (size_t j = 0; j < 3 && c->args[j]; j++)
    if ((c->required & (1u << j)) && !xapi_arg(cmd, c->args[j]))
      return VEIL_EXAPI_ARG;
  return 0;
}

static void show(const device_t *d, const char *r, veil_writer_t *w) {
  for (size_t i = 0; i < d->ncerts; i++) {
    const x509_info_t *x = &d->certs[i]->info;
    dev_out(w, "*r %sResult Details %zu Fingerprint: \"%s\"\n", r, i + 1, x->sha1_hex);
    dev_out(w, "*r %sResult Details %zu SubjectName: ", r, i + 1);
    dev_out_quoted(w, x->subject);
    dev_out(w, "\n*r %sResult Details %zu IssuerName: ", r, i + 1);
    dev_out_quoted(w, x->issuer);
    dev_out(w, "\n*r %sResult Details %zu SerialNumber: \"%s\"\n", r, i + 1, x->serial_hex);
    dev_out(w, "*r %sResult Details %zu NotAfter: %lld\n", r, i + 1, (long long)x->not_after);
    for (int p = 0; p < DEV_PURPOSE_COUNT; p++)
      if (d->active[p] == (int)i)
        dev_out(w, "*r %sResult Details %zu Purpose: %s\n", r, i + 1,
                dev_purpose_name((dev_purpose_t)p));
  }
}

static int parse_u32(const xapi_arg_t *a, uint32_t max, uint32_t *out) {
  if (!a)
    return 0;
  if (a->value_len == 0 || a->value_len > 9)
    return VEIL_EXAPI_ARG;
  uint32_t v = 0;
  for (size_t i = 0; i < a->value_len; i++) {
    if (a->value[i] < '0' || a->value[i] > '9')
      return VEIL_EXAPI_ARG;
    v = v * 10 + (uint32_t)(a->value[i] - '0');
  }
  if (v > max)
    return VEIL_EXAPI_ARG;
  *out = v;
  return 0;
}

static dev_call_t *find_call(device_t *d, uint32_t id) {
  for (size_t i = 0; i < DEVICE_CALLS_MAX; i++)
    if (d->calls[i].used && d->calls[i].id == id)
      return &d->calls[i];
  return NULL;
}

static void participant_fields(veil_writer_t *w, const char *prefix, uint32_t call,
                               const dev_participant_t *p) {
  dev_out(w, "%s CallId: %u\n%s ParticipantId: ", prefix, call, prefix);
  dev_out_quoted(w, p->id);
  dev_out(w, "\n%s DisplayName: ", prefix);
  dev_out_quoted(w, p->display_name);
  dev_out(w, "\n%s E2EEIdentity: ", prefix);
  dev_out_quoted(w, p->identity);
  dev_out(w, "\n%s E2EEStatus: %s\n%s E2EECertInfo: ", prefix, level_word(p->level), prefix);
  dev_out_quoted(w, p->certinfo ? p->certinfo : "");
  dev_out(w, "\n");
}

static int search(device_t *d, const xapi_cmd_t *cmd, const char *r, veil_writer_t *w) {
  uint32_t call_id = 0, limit = DEVICE_ROSTER_MAX, offset = 0;
  int rc;
  if ((rc = parse_u32(xapi_arg(cmd, "CallId"), UINT32_MAX / 2, &call_id)) ||
      (rc = parse_u32(xapi_arg(cmd, "Limit"), DEVICE_ROSTER_MAX, &limit)) ||
      (rc = parse_u32(xapi_arg(cmd, "Offset"), DEVICE_ROSTER_MAX, &offset)))
    return rc;
  dev_call_t *c = NULL;
  if (xapi_arg(cmd, "CallId"))
    c = find_call(d, call_id);
  else
    for (size_t i = 0; i < DEVICE_CALLS_MAX && !c; i++)
      c = d->calls[i].used ? &d->calls[i] : NULL;
  if (!c)
    return VEIL_ENOTFOUND;
  dev_out(w, "*r %sResult (status=OK):\n", r);
  size_t shown = 0;
  char prefix[96];
  for (size_t j = offset; j < c->n && shown < limit; j++, shown++) {
    snprintf(prefix, sizeof prefix, "*r %sResult Participant %zu", r, shown + 1);
    participant_fields(w, prefix, c->id, &c->roster[j]);
  }
  dev_out(w, "*r %sResult ResultInfo TotalRows: %zu\n** end\n", r, c->n);
  return 0;
}

static int do_command(device_t *d, const xapi_cmd_t *cmd, veil_writer_t *w) {
  const struct command *c = lookup(cmd);
  if (!c) {
    result_error(w, "", VEIL_EXAPI_UNKNOWN);
    return VEIL_EXAPI_UNKNOWN;
  }
  int rc = check_args(c, cmd);
  const xapi_arg_t *a = c->args[0] ? xapi_arg(cmd, c->args[0]) : NULL;
  const xapi_arg_t *fp = xapi_arg(cmd, "Fingerprint");
  dev_purpose_t purpose = DEV_PURPOSE_IDENTITY;
  if (!rc && (c->id == CMD_ACTIVATE || c->id == CMD_DEACTIVATE))
    rc = dev_purpose_parse(a->value, &purpose);
  if (rc)
    goto fail;
  switch (c->id) {
  case CMD_POPULATE:
    if ((rc = dev_populate(d, a->value, a->value_len)))
      goto fail;
    char salt[DEVICE_SALT_LEN * 2 + 1];
    veil_b64url_encode(d->salt, DEVICE_SALT_LEN, salt);
    dev_out(w, "*r %sResult (status=OK):\n*r %sResult Salt: \"%s\"\n** end\n", c->result,
            c->result, salt);
    return 0;
  case CMD_ADD:
    if ((rc = dev_cert_add(d, cmd->body, cmd->body_len)))
      goto fail;
    dev_out(w, "*r %sResult (status=OK):\n*r %sResult Fingerprint: \"%s\"\n** end\n",
            c->result, c->result, d->certs[d->ncerts - 1]->info.sha1_hex);
    return 0;
  case CMD_SHOW:
    dev_out(w, "*r %sResult (status=OK):\n", c->result);
    show(d, c->result, w);
    dev_out(w, "** end\n");
    return 0;
  case CMD_ACTIVATE:
  case CMD_DEACTIVATE:
    if ((rc = dev_cert_activate(d, purpose, fp->value, fp->value_len, c->id == CMD_ACTIVATE)))
      goto fail;
    break;
  case CMD_DELETE:
    if ((rc = dev_cert_delete(d, fp->value, fp->value_len)))
      goto fail;
    break;
  case CMD_SEARCH:
    if ((rc = search(d, cmd, c->result, w)))
      goto fail;
    return 0;
  }
  dev_out(w, "*r %sResult (status=OK):\n** end\n", c->result);
  return 0;
fail:
  result_error(w, c->result, rc);
  return rc;
}

int device_execute(device_t *d, const xapi_cmd_t *cmd, veil_writer_t *out) {
  switch (cmd->kind) {
  case XAPI_COMMAND:
    return do_command(d, cmd, out);
  case XAPI_STATUS:
    return do_status(d, cmd, out);
  case XAPI_CONFIGURATION:
    return do_configuration(d, cmd, out);
  case XAPI_EVENT:
    break;
  }
  /* Events flow from the device only; a shell cannot inject one. */
  result_error(out, "Event", VEIL_EXAPI_UNKNOWN);
  return VEIL_EXAPI_UNKNOWN;
}

/* ---- calls and rosters --------------------------------------------------------------- */

int device_call_begin(device_t *d, uint32_t call_id, const device_call_info_t *info) {
  if (find_call(d, call_id))
    return VEIL_EEXIST;
  for (size_t i = 0; i < DEVICE_CALLS_MAX; i++) {
    dev_call_t *c = &d->calls[i];
    if (c->used)
      continue;
    if (!(c->roster = calloc(DEVICE_ROSTER_MAX, sizeof *c->roster)))
      return VEIL_ENOMEM;
    c->used = 1;
    c->id = call_id;
    c->info = *info;
    c->n = 0;
    c->next_index = 1;
    return 0;
  }
  return VEIL_ELIMIT;
}

int device_call_update(device_t *d, uint32_t call_id, const device_call_info_t *info) {
  dev_call_t *c = find_call(d, call_id);
  if (!c)
    return VEIL_ENOTFOUND;
  c->info = *info;
  return 0;
}

int device_call_end(device_t *d, uint32_t call_id) {
  dev_call_t *c = find_call(d, call_id);
  if (!c)
    return VEIL_ENOTFOUND;
  for (size_t j = 0; j < c->n; j++)
    free(c->roster[j].certinfo);
  free(c->roster);
  memset(c, 0, sizeof *c);
  return 0;
}

static void emit_event(device_t *d, const char *what, uint32_t call, const dev_participant_t *p) {
  if (!d->cfg.emit)
    return;
  veil_writer_t w;
  veil_writer_init_growable(&w, 512);
  char prefix[96];
  snprintf(prefix, sizeof prefix, "*e Conference ParticipantList Participant%s", what);
  participant_fields(&w, prefix, call, p);
  dev_out(&w, "** end\n");
  if (!w.err)
    d->cfg.emit(d->cfg.emit_ctx, (const char *)w.buf, w.len);
  veil_writer_free(&w);
}

int device_roster_upsert(device_t *d, uint32_t call_id, const char *participant_id,
                         const verify_status_t *st) {
  dev_call_t *c = find_call(d, call_id);
  if (!c)
    return VEIL_ENOTFOUND;
  if (!participant_id[0] || strlen(participant_id) >= DEVICE_ID_MAX)
    return VEIL_EINVAL;
  dev_participant_t *p = NULL;
  for (size_t j = 0; j < c->n && !p; j++)
    if (strcmp(c->roster[j].id, participant_id) == 0)
      p = &c->roster[j];
  int added = !p;
  if (added && c->n == DEVICE_ROSTER_MAX)
    return VEIL_ELIMIT;
  char *info = strdup(st->details_json ? st->details_json : "");
  if (!info)
    return VEIL_ENOMEM;
  if (added) {
    p = &c->roster[c->n++];
    memset(p, 0, sizeof *p);
    p->index = c->next_index++;
    snprintf(p->id, sizeof p->id, "%s", participant_id);
  }
  free(p->certinfo);
  p->certinfo = info;
  p->level = st->level;
  snprintf(p->identity, sizeof p->identity, "%s", st->identity);
  snprintf(p->display_name, sizeof p->display_name, "%s", st->display_name);
  emit_event(d, added ? "Added" : "Updated", call_id, p);
  return 0;
}

int device_roster_remove(device_t *d, uint32_t call_id, const char *participant_id) {
  dev_call_t *c = find_call(d, call_id);
  if (!c)
    return VEIL_ENOTFOUND;
  for (size_t j = 0; j < c->n; j++) {
    if (strcmp(c->roster[j].id, participant_id) != 0)
      continue;
    emit_event(d, "Deleted", call_id, &c->roster[j]);
    free(c->roster[j].certinfo);
    memmove(&c->roster[j], &c->roster[j + 1], (c->n - j - 1) * sizeof c->roster[0]);
    c->n--;
    return 0;
  }
  return VEIL_ENOTFOUND;
}
