/* veil-server runtime (serve.c): runs until drained; returns the process exit code. */
#ifndef VEIL_SERVER_SERVE_H
#define VEIL_SERVER_SERVE_H

#include "server/config.h"

int srv_serve(srv_config_t *cfg);

#endif
