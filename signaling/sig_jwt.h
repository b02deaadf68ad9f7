/*
 * veil — join tokens: JWT (RFC 7519) in JWS compact serialization (RFC 7515 §7.1),
 * signed with ES256 (ECDSA P-256 + SHA-256, RFC 7518 §3.4) or HS256 (HMAC-SHA-256,
 * RFC 7518 §3.2). Server-side only, on OpenSSL (never the client library: blindness).
 *
 * The accepted algorithm is a property of the key, fixed by configuration. The token's
 * `alg` header must name exactly that algorithm: `none`, the other algorithm (the
 * classic HS/ES confusion where a public key is used as an HMAC secret) and anything else
 * are refused before any signature work (RFC 8725 §3.1, §3.2).
 */
#ifndef VEIL_SIGNALING_SIG_JWT_H
#define VEIL_SIGNALING_SIG_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sig_jwt_alg {
  SIG_JWT_HS256 = 1,
  SIG_JWT_ES256 = 2,
} sig_jwt_alg_t;

typedef enum sig_role {
  SIG_ROLE_HOST = 1,   /* may admit/reject lobby entrants */
  SIG_ROLE_MEMBER = 2, /* an ordinary participant */
  SIG_ROLE_DEVICE = 3, /* an emulated room device */
} sig_role_t;

/* Bounds on what a token may carry; checked while parsing (STYLE 10). */
#define SIG_JWT_MAX_TOKEN 4096
#define SIG_ROOM_MAX 64
#define SIG_IDENTITY_MAX 128
#define SIG_NAME_MAX 64

typedef struct sig_claims {
  char room[SIG_ROOM_MAX + 1];     /* `room` */
  char sub[SIG_IDENTITY_MAX + 1];  /* `sub`: the identity */
  char name[SIG_NAME_MAX + 1];     /* `name`: display name granted by the issuer */
  sig_role_t role;                 /* `role` */
  int64_t exp, nbf, iat;           /* NumericDate seconds (RFC 7519 §2); nbf 0 = absent */
  bool can_publish, can_subscribe; /* default true when absent */
} sig_claims_t;

typedef struct sig_jwt_key sig_jwt_key_t;

/* Fresh random key: 32 random bytes for HS256, a P-256 key pair for ES256. Caller owns. */
int sig_jwt_key_generate(sig_jwt_alg_t alg, sig_jwt_key_t **out);
/* From a file: HS256 = the secret as unpadded base64url text (>= 32 bytes decoded);
 * ES256 = a PEM private key (signing and verifying) or PEM public key (verifying only). */
int sig_jwt_key_load(sig_jwt_alg_t alg, const char *path, sig_jwt_key_t **out);
/* From memory, same formats as sig_jwt_key_load. */
int sig_jwt_key_from_text(sig_jwt_alg_t alg, const char *text, size_t len, sig_jwt_key_t **out);
/* Writes the key (secret or private PEM) to path, created with mode 0600. */
int sig_jwt_key_save(const sig_jwt_key_t *key, const char *path);
sig_jwt_alg_t sig_jwt_key_alg(const sig_jwt_key_t *key);
/* Wipes the secret and frees; NULL is a no-op. */
void sig_jwt_key_free(sig_jwt_key_t *key);

int sig_role_parse(const char *s, sig_role_t *out);
const char *sig_role_name(sig_role_t role);

/* Signs the claims. *out is a NUL-terminated token the caller frees with free(). */
int sig_jwt_sign(const sig_jwt_key_t *key, const sig_claims_t *claims, char **out);

/* Verifies a token: shape, header alg (== key's), signature, then claims; `now` in Unix
 * seconds, `leeway` seconds of clock skew tolerated on exp/nbf/iat. When `room` is not
 * NULL the token's room must equal it. Returns 0 and fills *out, or one of
 * VEIL_ESIG_TOKEN_{MALFORMED,ALG,SIG,EXPIRED,NOT_YET,ROOM,CLAIMS}. */
int sig_jwt_verify(const sig_jwt_key_t *key, const char *token, size_t len, const char *room,
                   int64_t now, int64_t leeway, sig_claims_t *out);

#endif
