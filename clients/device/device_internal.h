/* veil — internals shared by device_state.c (secret, certificates, persistence) and
 * device_shell.c (command dispatch, statuses, rosters). Not a public header. */
#ifndef VEIL_CLIENTS_DEVICE_INTERNAL_H
#define VEIL_CLIENTS_DEVICE_INTERNAL_H

#include "clients/device/device_state.h"

/* nonce || AES-256-GCM(private scalar or K) || tag; both are 32 bytes */
#define DEV_KEYBLOB_LEN (VC_AEAD_NONCE_LEN + 32 + VC_AEAD_TAG_LEN)

typedef enum dev_purpose {
  DEV_PURPOSE_IDENTITY = 0, /* "WebexIdentity": the device's external E2EE identity */
  DEV_PURPOSE_HTTPS,
  DEV_PURPOSE_SIP,
  DEV_PURPOSE_DOT1X,
  DEV_PURPOSE_COUNT
} dev_purpose_t;

typedef struct dev_cert {
  uint8_t *der[X509_CHAIN_MAX]; /* owned: the chain, leaf first */
  size_t der_len[X509_CHAIN_MAX];
  size_t n;
  x509_info_t info;                  /* of the leaf */
  uint8_t key_blob[DEV_KEYBLOB_LEN]; /* the private key, encrypted at rest */
} dev_cert_t;

typedef struct dev_participant {
  uint32_t index; /* the xAPI "Participant N", stable while the participant stays */
  char id[DEVICE_ID_MAX];
  x509_level_t level;
  char identity[X509_NAME_MAX];
  char display_name[X509_NAME_MAX];
  char *certinfo; /* owned */
} dev_participant_t;

typedef struct dev_call {
  int used;
  uint32_t id;
  device_call_info_t info;
  dev_participant_t *roster; /* owned, DEVICE_ROSTER_MAX entries */
  size_t n;
  uint32_t next_index;
} dev_call_t;

struct device {
  device_config_t cfg;
  char name[64];
  int has_secret;
  uint8_t salt[DEVICE_SALT_LEN];
  uint8_t k[DEVICE_K_LEN]; /* scrypt(secret, salt); the secret itself is never kept */
  uint8_t k_blob[DEV_KEYBLOB_LEN]; /* K sealed under the KEK, made with K; only it is saved */
  uint8_t kek[DEVICE_KEK_LEN];     /* the key-encryption key; cfg.kek points here */
  dev_cert_t *certs[DEVICE_CERTS_MAX]; /* owned */
  size_t ncerts;
  int active[DEV_PURPOSE_COUNT]; /* index into certs, or -1 */
  int mode_on;                   /* xConfiguration Conference EndToEndEncryption Mode */
  char preferred_domain[254];
  uint8_t *internal_der[X509_CHAIN_MAX]; /* owned: operator-issued identity chain */
  size_t internal_len[X509_CHAIN_MAX];
  size_t ninternal;
  dev_call_t calls[DEVICE_CALLS_MAX];
  uint64_t gen;
};

/* device_state.c */
int64_t dev_now(const device_t *d);
const char *dev_purpose_name(dev_purpose_t p);
int dev_purpose_parse(const char *s, dev_purpose_t *p);
int dev_populate(device_t *d, const char *secret, size_t len);
int dev_cert_add(device_t *d, const char *jwe, size_t len);
int dev_cert_activate(device_t *d, dev_purpose_t p, const char *jwe, size_t len, int on);
int dev_cert_delete(device_t *d, const char *jwe, size_t len);
/* Open d->k_blob and a certificate's key blob under d's KEK and salt (VEIL_EAUTH when they
 * were sealed under another KEK or salt, or tampered with). Callers wipe the output. */
int dev_open_k(const device_t *d, uint8_t k[DEVICE_K_LEN]);
int dev_open_cert_key(const device_t *d, const dev_cert_t *c, uint8_t priv[32]);
/* The identity facts xStatus shows for a chain: validity and identity. */
typedef struct dev_identity_view {
  int present;
  int valid;
  char identity[X509_NAME_MAX];
  char *certinfo; /* owned by the caller (free) */
} dev_identity_view_t;
int dev_external_identity(const device_t *d, dev_identity_view_t *v);
int dev_internal_identity(const device_t *d, dev_identity_view_t *v);

/* device_shell.c: appends formatted text to the response. */
void dev_out(veil_writer_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` as a quoted xAPI value (\" and \\ escaped, control bytes dropped). */
void dev_out_quoted(veil_writer_t *w, const char *s);

#endif
