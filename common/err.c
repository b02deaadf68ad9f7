/* veil — error messages for the one error space of err.h. */
#include "common/err.h"

#include <string.h>

typedef struct {
  int code;
  const char *name;
  const char *msg;
} errdef_t;

static const errdef_t errdefs[] = {
#define VEIL_ERRDEF(name, code, msg) {code, #name, msg},
#include "common/errdefs/all.def"
#undef VEIL_ERRDEF
};

static const errdef_t *find(int code) {
  for (size_t i = 0; i < sizeof(errdefs) / sizeof(errdefs[0]); i++)
    if (errdefs[i].code == code)
      return &errdefs[i];
  return NULL;
}

const char *veil_strerror(int code) {
  if (code == 0)
    return "success";
  const errdef_t *d = find(code);
  if (d)
    return d->msg;
  if (code < 0 && code > VEIL_ERR_BASE)
    return strerror(-code); /* libuv's codes are negated errno values on Unix */
  return "unknown error";
}

const char *veil_errname(int code) {
  const errdef_t *d = find(code);
  return d ? d->name : NULL;
}
