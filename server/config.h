/*
 * veil-server configuration: embedded defaults, then a file, then VEIL_* environment
 * variables, then command-line flags (later sources win; docs/config.md lists every key).
 *
 * One table describes every key (name, type, bounds, default); the file parser, the
 * environment reader and the flag parser all go through the same setter, so a value is
 * validated the same way wherever it comes from, and an invalid one is reported with its
 * key and its source ("port (from VEIL_PORT): not an integer in 0..65535").
 */
#ifndef VEIL_SERVER_CONFIG_H
#define VEIL_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_PATH_MAX 512

typedef struct srv_config {
  char host[64];
  int port;
  bool tls;
  char state_dir[SRV_PATH_MAX];
  char cert_file[SRV_PATH_MAX]; /* empty: <state_dir>/tls-cert.pem, generated */
  char key_file[SRV_PATH_MAX];
  char udp_host[64];
  int udp_port;
  char announce_ip[64];          /* address put in ICE candidates; empty: udp_host */
  char token_alg[8];             /* "ES256" or "HS256" */
  char token_key_file[SRV_PATH_MAX]; /* empty: <state_dir>/token-<alg>.key, generated */
  int token_leeway;
  bool lobby;
  int max_connections;
  int max_rooms;
  int max_participants_per_room;
  int max_lobby_per_room;
  int max_message_bytes;
  int max_prejoin_message_bytes;
  int max_mls_message_bytes;
  int messages_per_second;
  int join_timeout_ms;
  int reconnect_grace_ms; /* a lost participant is held this long for a resume; 0: never */
  int max_reconnecting;   /* participants held at once */
  int max_tracks_per_participant;
  int max_subscriptions_per_participant;
  int drain_timeout_ms;
  char log_level[8];
  bool operator_ca;                    /* serve the operator CA routes (operator_ca.h) */
  char operator_ca_dir[SRV_PATH_MAX];  /* empty: <state_dir>/operator-ca, created on first start */
  int operator_ca_validity_hours;
  int operator_ca_issue_per_minute;
  int operator_ca_identity_per_hour;
} srv_config_t;

/* Loads the whole chain. `argv` holds only options (no program name, no subcommand);
 * `envp` is a NULL-terminated "NAME=value" array (usually `environ`). Returns 0, or
 * VEIL_ESRV_CONFIG / VEIL_ESRV_CONFIG_KEY / VEIL_ESRV_CONFIG_FILE with a sentence naming
 * the offending key and its source in `err`. */
int srv_config_load(srv_config_t *cfg, int argc, char *const *argv, char *const *envp, char *err, size_t errlen);

/* Just the embedded defaults. */
void srv_config_defaults(srv_config_t *cfg);
/* Sets one key from text; `source` names where it came from, for the error message. */
int srv_config_set(srv_config_t *cfg, const char *key, const char *value, const char *source, char *err,
                   size_t errlen);
/* Writes every key = value (for `veil-server config`, and docs/config.md checks). */
void srv_config_dump(const srv_config_t *cfg, char *out, size_t cap);

/* Number of keys and their names and defaults (for docs and tests). */
size_t srv_config_nkeys(void);
const char *srv_config_key_name(size_t i);
const char *srv_config_key_default(size_t i);

#endif
