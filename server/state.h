/*
 * veil-server state directory: where first start generates what a local deployment needs
 * (a self-signed TLS certificate and the development join-token signing key) and where
 * later starts find them again. Default: $XDG_STATE_HOME/veil, else ./veil-data.
 */
#ifndef VEIL_SERVER_STATE_H
#define VEIL_SERVER_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "server/config.h"
#include "signaling/sig_jwt.h"

/* Fills cfg->state_dir when empty and creates it (mode 0700). */
int srv_state_prepare(srv_config_t *cfg, char *err, size_t errlen);
/* The TLS certificate and key: the configured files, or <state_dir>/tls-{cert,key}.pem,
 * generated on first use (ECDSA P-256, CN=localhost, SAN localhost/127.0.0.1/::1, 1 year).
 * Fills cfg->cert_file / cfg->key_file with the paths in use. */
int srv_tls_prepare(srv_config_t *cfg, char *err, size_t errlen);
/* How a client can trust the certificate the server presents: the first one of cert_file
 * (lws sends the file's certificates in order, leaf first). */
typedef struct srv_tls_trust {
  char pin[65];               /* SHA-256 of the leaf's DER, lowercase hex (veil-client --pin) */
  char ca_file[SRV_PATH_MAX]; /* a CA file the chain verifies against (veil-client --ca); empty: pin */
  char why[160];              /* operator certificate without ca_file: OpenSSL's verification error */
  char url_host[256];         /* with ca_file: the host a client's URL must name (veil-client
                                 checks it against the certificate): the listen host when the
                                 certificate names it, else its first non-wildcard DNS name */
} srv_tls_trust_t;
/* Fills *out for cert_file. Only for an operator's certificate (`operator_cert`: it was
 * configured, not generated) is a CA looked for: the system's default CA file, then
 * cert_file itself (a chain carrying its root, or a self-signed certificate), each checked
 * the way veil-client --ca checks (OpenSSL's "ssl_server" defaults, no host name check).
 * A generated development certificate is pinned. `host`: what clients on this machine
 * would connect to (url_host). Returns 0, or VEIL_ESRV_TLS when
 * cert_file holds no readable certificate. */
int srv_tls_trust(const char *cert_file, bool operator_cert, const char *host, srv_tls_trust_t *out);
/* The join-token key for cfg->token_alg: the configured file, or
 * <state_dir>/token-<alg>.key generated on first use. Caller frees. */
int srv_token_key_prepare(srv_config_t *cfg, sig_jwt_key_t **out, char *err, size_t errlen);

#endif
