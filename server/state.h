/*
 * veil-server state directory: where first start generates what a local deployment needs
 * (a self-signed TLS certificate and the development join-token signing key) and where
 * later starts find them again. Default: $XDG_STATE_HOME/veil, else ./veil-data.
 */
#ifndef VEIL_SERVER_STATE_H
#define VEIL_SERVER_STATE_H

#include <stddef.h>

#include "server/config.h"
#include "signaling/sig_jwt.h"

/* Fills cfg->state_dir when empty and creates it (mode 0700). */
int srv_state_prepare(srv_config_t *cfg, char *err, size_t errlen);
/* The TLS certificate and key: the configured files, or <state_dir>/tls-{cert,key}.pem,
 * generated on first use (ECDSA P-256, CN=localhost, SAN localhost/127.0.0.1/::1, 1 year).
 * Fills cfg->cert_file / cfg->key_file with the paths in use. */
int srv_tls_prepare(srv_config_t *cfg, char *err, size_t errlen);
/* The join-token key for cfg->token_alg: the configured file, or
 * <state_dir>/token-<alg>.key generated on first use. Caller frees. */
int srv_token_key_prepare(srv_config_t *cfg, sig_jwt_key_t **out, char *err, size_t errlen);

#endif
