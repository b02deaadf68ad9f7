/*
 * veil — one documented error space.
 *
 * Functions return 0 or a negative code. Codes above VEIL_ERR_BASE (that is, -1 .. -9999)
 * are libuv's (negated errno values and UV_E*), passed through unchanged. veil's own codes
 * live below -10000, one range of 100 per module, each range listed in its own file under
 * common/errdefs/ (so that modules never edit each other's lists):
 *
 *   common    -10000..-10099   errdefs/common.def
 *   crypto    -10100..-10199   errdefs/crypto.def
 *   sframe    -10200..-10299   errdefs/sframe.def
 *   mls       -10300..-10499   errdefs/mls.def
 *   sfu       -10500..-10599   errdefs/sfu.def
 *   signaling -10600..-10699   errdefs/signaling.def
 *   relay     -10700..-10799   errdefs/relay.def
 *   server    -10800..-10899   errdefs/server.def
 *   client    -10900..-10999   errdefs/client.def
 *
 * Each .def line is VEIL_ERRDEF(NAME, code, "message").
 */
#ifndef VEIL_COMMON_ERR_H
#define VEIL_COMMON_ERR_H

#define VEIL_ERR_BASE (-10000)

enum veil_err {
  VEIL_OK = 0,
#define VEIL_ERRDEF(name, code, msg) name = (code),
#include "common/errdefs/all.def"
#undef VEIL_ERRDEF
};

/* A static, human-readable message for any code (veil's, libuv's/errno's, or unknown). */
const char *veil_strerror(int code);
/* The symbolic name ("VEIL_ETRUNC"), or NULL for codes that are not veil's. */
const char *veil_errname(int code);

#endif
