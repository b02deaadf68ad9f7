/*
 * veil — signaling message validation (protocol veil.v1, docs/protocol.md).
 *
 * Every client message is a JSON object with a string `type`; each type has a schema (a
 * table, not scattered ifs: STYLE, after quicly) naming every allowed member, its JSON
 * type, whether it is required and its bounds. Unknown members, wrong types, out-of-range
 * values, duplicate keys and nesting deeper than SIG_MSG_MAX_DEPTH are all refused before
 * any state is touched, so a handler only ever sees a well-formed message.
 */
#ifndef VEIL_SIGNALING_SIG_MSG_H
#define VEIL_SIGNALING_SIG_MSG_H

#include <jansson.h>
#include <stddef.h>

#define SIG_MSG_MAX_DEPTH 6

typedef enum sig_msg_type {
  SIG_MSG_JOIN = 0,
  SIG_MSG_PING,
  SIG_MSG_LEAVE,
  SIG_MSG_TRANSPORT_CONNECT,
  SIG_MSG_PUBLISH,
  SIG_MSG_UNPUBLISH,
  SIG_MSG_SUBSCRIBE,
  SIG_MSG_UNSUBSCRIBE,
  SIG_MSG_ADMIT,
  SIG_MSG_REJECT,
  SIG_MSG__COUNT,
} sig_msg_type_t;

/* Field types of the schema language. */
typedef enum sig_ftype {
  SIG_F_STR = 1, /* string; min/max = length in bytes; optional enum list */
  SIG_F_IDENT,   /* string of [A-Za-z0-9._:@-]; min/max = length */
  SIG_F_INT,     /* integer; min/max = value */
  SIG_F_BOOL,
  SIG_F_OBJ,     /* object validated by `sub` */
  SIG_F_ARR_STR, /* array of strings; min/max = count; elem_max = each length */
  SIG_F_ARR_INT, /* array of integers; min/max = count; each in [elem_min, elem_max] */
  SIG_F_ARR_OBJ, /* array of objects validated by `sub`; min/max = count */
} sig_ftype_t;

typedef struct sig_schema sig_schema_t;

typedef struct sig_field {
  const char *name;
  sig_ftype_t type;
  int required;
  long long min, max;
  long long elem_min, elem_max;
  const sig_schema_t *sub;
  const char *const *enums; /* NULL-terminated, for SIG_F_STR */
} sig_field_t;

struct sig_schema {
  const sig_field_t *fields;
  size_t n;
};

typedef struct sig_msg {
  sig_msg_type_t type;
  json_t *root;   /* owned: the whole validated object */
  long long id;   /* the client's optional request id, echoed in replies; -1 = none */
} sig_msg_t;

/* Parses and validates one text frame. On success *out owns `root` (release with
 * sig_msg_release). On failure returns VEIL_ESIG_MALFORMED (not JSON, duplicate keys,
 * too deep) or VEIL_ESIG_SCHEMA, writes a short reason naming the offending member to
 * `why` (static text or a copy, NUL-terminated, at most whylen bytes) and sets *id_out to
 * the message's request id when one could be read (else -1). */
int sig_msg_parse(const char *data, size_t len, sig_msg_t *out, char *why, size_t whylen, long long *id_out);
void sig_msg_release(sig_msg_t *m);
const char *sig_msg_type_name(sig_msg_type_t t);

/* Validates an object against a schema (exposed for the tests). */
int sig_schema_check(const sig_schema_t *s, json_t *obj, char *why, size_t whylen);

/* Accessors for validated messages (the schema guarantees the member's type). */
const char *sig_msg_str(const sig_msg_t *m, const char *name); /* NULL when absent */
long long sig_msg_int(const sig_msg_t *m, const char *name, long long dflt);
int sig_msg_bool(const sig_msg_t *m, const char *name, int dflt);

#endif
