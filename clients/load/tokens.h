/*
 * veil-load — join tokens for simulated participants: minted per participant with the
 * server's signing key (--token-key: ES256 PEM private key, or HS256 secret as base64url
 * text, the formats of `veil-server token` / docs/protocol.md "Join tokens"), or taken
 * one per line from a token file (--token-file).
 *
 * Each participant's MLS credential must name the identity its token grants (`sub`):
 * receivers check that the leaf which encrypted a track belongs to the participant that
 * signaling says publishes it. So for a token file the `sub` is read from the token's
 * payload (not verified here: the server does that).
 */
#ifndef VEIL_CLIENTS_LOAD_TOKENS_H
#define VEIL_CLIENTS_LOAD_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#define LOAD_TOKEN_MAX 4096
#define LOAD_SUB_MAX 128

typedef struct load_tokens load_tokens_t;

/* key_file or token_file (exactly one). room: the room every token must be for. */
int load_tokens_open(const char *key_file, const char *token_file, const char *room, load_tokens_t **out);
void load_tokens_free(load_tokens_t *t);
/* Token and identity for participant idx; *token is malloc'd (caller frees). Minting:
 * sub "load-<idx>@veil-load.invalid", valid for ttl_s. Token file: line idx;
 * VEIL_ELIMIT when the file has fewer lines. Thread-safe. */
int load_tokens_get(load_tokens_t *t, uint32_t idx, int64_t ttl_s, char **token, char sub[LOAD_SUB_MAX + 1]);
uint32_t load_tokens_count(const load_tokens_t *t); /* lines of a token file; 0 when minting */

/* The `sub` claim of a JWT's payload, unverified. VEIL_EDECODE when not readable. */
int load_token_sub(const char *token, char sub[LOAD_SUB_MAX + 1]);

#endif
