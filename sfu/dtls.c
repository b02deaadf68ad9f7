/* sfu/dtls — see dtls.h. */
#include "sfu/dtls.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/bytes.h"
#include "common/err.h"

/* Outgoing datagrams waiting for the shell: one handshake flight with a P-256 certificate
 * is about 1 kB, so 16 kB and 32 datagrams bound a few flights with room to spare. */
#define OUT_BYTES 16384
#define OUT_MAX 32
#define DTLS_RECORD_HEADER 13 /* RFC 6347 §4.1: type, version, epoch, seq(48), length */

struct sfu_dtls_ctx {
  SSL_CTX *ssl_ctx; /* owned (one reference; each SSL holds another) */
  char fingerprint[SFU_DTLS_FINGERPRINT_LEN];
};

struct sfu_dtls {
  SSL *ssl;  /* owned; owns rbio and wbio */
  BIO *rbio; /* network → OpenSSL (borrowed from ssl) */
  BIO *wbio; /* OpenSSL → network (borrowed from ssl) */
  sfu_dtls_state_t state;
  sfu_dtls_role_t role;
  int err;
  uint16_t mtu;
  uint32_t handshake_timeout_ms;
  uint64_t deadline_ms; /* handshake deadline on the injected clock */
  int have_remote_fp;
  uint8_t remote_fp[32];
  sfu_dtls_srtp_keys_t keys; /* valid when CONNECTED; wiped on free */
  /* Outgoing datagram queue: lengths in out_len[out_head..out_head+out_n), bytes packed. */
  uint8_t out[OUT_BYTES];
  size_t out_used, out_off;
  uint16_t out_len[OUT_MAX];
  unsigned out_head, out_n;
};

static int g_ex_index = -1;
static CRYPTO_ONCE g_ex_once = CRYPTO_ONCE_STATIC_INIT;
static void ex_init(void) { g_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

/* ---- certificate ---------------------------------------------------------------- */

static void fingerprint_format(const uint8_t md[32], char out[SFU_DTLS_FINGERPRINT_LEN]) {
  static const char hx[] = "0123456789ABCDEF";
  for (int i = 0; i < 32; i++) {
    out[3 * i] = hx[md[i] >> 4];
    out[3 * i + 1] = hx[md[i] & 15];
    out[3 * i + 2] = i == 31 ? '\0' : ':';
  }
}

static int make_cert(EVP_PKEY **pkey_out, X509 **x509_out) {
  EVP_PKEY *pkey = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  X509_NAME *name = NULL;
  if (!pkey || !x) goto fail;
  uint8_t serial[8];
  if (RAND_bytes(serial, sizeof serial) != 1) goto fail;
  serial[0] &= 0x7f; /* positive INTEGER */
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  if (!bn) goto fail;
  int ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  BN_free(bn);
  if (!ok) goto fail;
  if (X509_set_version(x, 2) != 1) goto fail;
  /* Backdated a day against clock skew; 30 days suffices for a worker's lifetime and
   * limits the value of a stolen key (WebRTC implementations use similar spans). */
  if (!X509_gmtime_adj(X509_getm_notBefore(x), -86400)) goto fail;
  if (!X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400)) goto fail;
  name = X509_NAME_new();
  if (!name || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                          (const unsigned char *)"veil-sfu", -1, -1, 0) != 1)
    goto fail;
  if (X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1) goto fail;
  if (X509_set_pubkey(x, pkey) != 1) goto fail;
  if (X509_sign(x, pkey, EVP_sha256()) <= 0) goto fail;
  X509_NAME_free(name);
  *pkey_out = pkey;
  *x509_out = x;
  return 0;
fail:
  X509_NAME_free(name);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return VEIL_ESFU_DTLS;
}

/* RFC 8122 §5 / RFC 5763 §5: the certificate is authenticated by the fingerprint that
 * arrived over the (authenticated) signaling channel; there is no chain to build. This
 * replaces OpenSSL's chain verification entirely. */
static int verify_fingerprint_cb(X509_STORE_CTX *store, void *arg) {
  (void)arg;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  sfu_dtls_t *d = ssl ? SSL_get_ex_data(ssl, g_ex_index) : NULL;
  X509 *peer = X509_STORE_CTX_get0_cert(store);
  if (!d || !peer) return 0;
  if (!d->have_remote_fp) {
    d->err = VEIL_ESFU_DTLS_FINGERPRINT;
    return 0;
  }
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  if (X509_digest(peer, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) return 0;
  if (CRYPTO_memcmp(md, d->remote_fp, 32) != 0) {
    d->err = VEIL_ESFU_DTLS_FINGERPRINT;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  return 1;
}

/* RFC 6347 §4.2.4.1 suggests 1 s initial retransmission; on a media path the first flight
 * is usually lost only on loss-prone links, so start lower and back off to a cap. */
static unsigned int timer_cb(SSL *ssl, unsigned int previous_us) {
  (void)ssl;
  if (previous_us == 0) return 400000;
  unsigned int next = previous_us * 2;
  return next > 4000000 ? 4000000 : next;
}

int sfu_dtls_ctx_new(sfu_dtls_ctx_t **out) {
  *out = NULL;
  CRYPTO_THREAD_run_once(&g_ex_once, ex_init);
  if (g_ex_index < 0) return VEIL_ESFU_DTLS;
  sfu_dtls_ctx_t *c = calloc(1, sizeof *c);
  if (!c) return VEIL_ENOMEM;
  EVP_PKEY *pkey = NULL;
  X509 *x = NULL;
  int rc = make_cert(&pkey, &x);
  if (rc) goto fail;
  rc = VEIL_ESFU_DTLS;
  c->ssl_ctx = SSL_CTX_new(DTLS_method());
  if (!c->ssl_ctx) goto fail;
  SSL_CTX *s = c->ssl_ctx;
  /* DTLS 1.2 only: WebRTC stacks speak 1.2; 1.0 lacks AEAD suites. */
  if (SSL_CTX_set_min_proto_version(s, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(s, DTLS1_2_VERSION) != 1)
    goto fail;
  if (SSL_CTX_use_certificate(s, x) != 1 || SSL_CTX_use_PrivateKey(s, pkey) != 1 ||
      SSL_CTX_check_private_key(s) != 1)
    goto fail;
  if (SSL_CTX_set_cipher_list(s, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                 "ECDHE-ECDSA-CHACHA20-POLY1305") != 1)
    goto fail;
  if (SSL_CTX_set1_groups_list(s, "X25519:P-256") != 1) goto fail;
  /* RFC 5764 §4.1.2 / RFC 7714 §14.2, our preference first. */
  if (SSL_CTX_set_tlsext_use_srtp(s, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0)
    goto fail;
  SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  SSL_CTX_set_cert_verify_callback(s, verify_fingerprint_cb, NULL);
  SSL_CTX_set_options(s, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
  SSL_CTX_set_read_ahead(s, 1);

  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) goto fail;
  fingerprint_format(md, c->fingerprint);
  X509_free(x);
  EVP_PKEY_free(pkey);
  *out = c;
  return 0;
fail:
  X509_free(x);
  EVP_PKEY_free(pkey);
  sfu_dtls_ctx_free(c);
  return rc;
}

void sfu_dtls_ctx_free(sfu_dtls_ctx_t *ctx) {
  if (!ctx) return;
  SSL_CTX_free(ctx->ssl_ctx);
  free(ctx);
}

const char *sfu_dtls_ctx_fingerprint(const sfu_dtls_ctx_t *ctx) { return ctx->fingerprint; }

/* ---- association ---------------------------------------------------------------- */

int sfu_dtls_new(sfu_dtls_ctx_t *ctx, const sfu_dtls_config_t *cfg, sfu_dtls_t **out) {
  *out = NULL;
  if (!ctx || !cfg) return VEIL_EINVAL;
  if (cfg->role != SFU_DTLS_ROLE_SERVER && cfg->role != SFU_DTLS_ROLE_CLIENT)
    return VEIL_EINVAL;
  sfu_dtls_t *d = calloc(1, sizeof *d);
  if (!d) return VEIL_ENOMEM;
  d->role = cfg->role;
  d->mtu = cfg->mtu ? cfg->mtu : 1200;
  if (d->mtu < 256 || d->mtu > 1500) d->mtu = 1200;
  d->handshake_timeout_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : 30000;
  d->ssl = SSL_new(ctx->ssl_ctx);
  d->rbio = BIO_new(BIO_s_mem());
  d->wbio = BIO_new(BIO_s_mem());
  if (!d->ssl || !d->rbio || !d->wbio) {
    BIO_free(d->rbio);
    BIO_free(d->wbio);
    sfu_dtls_free(d);
    return VEIL_ENOMEM;
  }
  /* An empty memory BIO must report "retry", not EOF, to the DTLS record layer. */
  BIO_set_mem_eof_return(d->rbio, -1);
  BIO_set_mem_eof_return(d->wbio, -1);
  SSL_set_bio(d->ssl, d->rbio, d->wbio);
  if (cfg->srtp_profiles && SSL_set_tlsext_use_srtp(d->ssl, cfg->srtp_profiles) != 0) {
    sfu_dtls_free(d);
    return VEIL_EUNSUPPORTED;
  }
  SSL_set_ex_data(d->ssl, g_ex_index, d);
  SSL_set_mtu(d->ssl, d->mtu);
  DTLS_set_link_mtu(d->ssl, d->mtu);
  DTLS_set_timer_cb(d->ssl, timer_cb);
  if (d->role == SFU_DTLS_ROLE_SERVER)
    SSL_set_accept_state(d->ssl);
  else
    SSL_set_connect_state(d->ssl);
  *out = d;
  return 0;
}

void sfu_dtls_free(sfu_dtls_t *d) {
  if (!d) return;
  SSL_free(d->ssl);
  OPENSSL_cleanse(&d->keys, sizeof d->keys);
  free(d);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int sfu_dtls_set_remote_fingerprint(sfu_dtls_t *d, const char *algorithm, const char *value) {
  if (!algorithm || !value || strcasecmp(algorithm, "sha-256") != 0) return VEIL_EUNSUPPORTED;
  if (strlen(value) != SFU_DTLS_FINGERPRINT_LEN - 1) return VEIL_EDECODE;
  uint8_t fp[32];
  for (int i = 0; i < 32; i++) {
    int hi = hexval(value[3 * i]), lo = hexval(value[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 31 && value[3 * i + 2] != ':')) return VEIL_EDECODE;
    fp[i] = (uint8_t)(hi << 4 | lo);
  }
  memcpy(d->remote_fp, fp, 32);
  d->have_remote_fp = 1;
  return 0;
}

static void fail(sfu_dtls_t *d, int err) {
  if (d->state == SFU_DTLS_FAILED || d->state == SFU_DTLS_CLOSED) return;
  d->state = SFU_DTLS_FAILED;
  if (!d->err) d->err = err;
}

/* Moves whatever OpenSSL wrote into the datagram queue, packing whole DTLS records into
 * datagrams of at most `mtu` bytes (RFC 6347 §4.1.1 allows several records per datagram;
 * a memory BIO loses OpenSSL's write boundaries, so we re-split on record headers). */
static void push_datagram(sfu_dtls_t *d, const uint8_t *p, size_t n) {
  /* Bounded queue: on overflow the datagram is dropped and the peer's retransmission
   * (RFC 6347 §4.2.4) recovers, rather than growing memory on a stuck association. */
  if (n == 0 || d->out_n >= OUT_MAX || d->out_used + n > OUT_BYTES) return;
  memcpy(d->out + d->out_used, p, n);
  d->out_used += n;
  d->out_len[(d->out_head + d->out_n++) % OUT_MAX] = (uint16_t)n;
}

/* Moves whatever OpenSSL wrote into the datagram queue, packing whole DTLS records into
 * datagrams of at most `mtu` bytes (RFC 6347 §4.1.1 allows several records per datagram;
 * a memory BIO loses OpenSSL's write boundaries, so we re-split on record headers). */
static void drain_output(sfu_dtls_t *d) {
  uint8_t tmp[OUT_BYTES];
  for (;;) {
    int pending = (int)BIO_ctrl_pending(d->wbio);
    if (pending <= 0) return;
    if (pending > (int)sizeof tmp) pending = sizeof tmp;
    int n = BIO_read(d->wbio, tmp, pending);
    if (n <= 0) return;
    if (d->out_n == 0) d->out_used = d->out_off = 0; /* compact when empty */
    veil_reader_t r;
    veil_reader_init(&r, tmp, (size_t)n);
    const uint8_t *dgram = r.p;
    size_t dlen = 0;
    while (veil_reader_remaining(&r) > 0) {
      const uint8_t *rec = r.p;
      uint16_t rlen = 0;
      veil_skip(&r, 11); /* type, version, epoch, sequence number */
      veil_read_u16(&r, &rlen);
      veil_skip(&r, rlen);
      if (r.err) break; /* OpenSSL never writes partial records */
      size_t total = DTLS_RECORD_HEADER + (size_t)rlen;
      if (dlen > 0 && dlen + total > d->mtu) {
        push_datagram(d, dgram, dlen);
        dgram = rec;
        dlen = 0;
      }
      dlen += total;
    }
    push_datagram(d, dgram, dlen);
  }
}

static int export_keys(sfu_dtls_t *d) {
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
  if (!p) return VEIL_ESFU_DTLS_NO_SRTP;
  sfu_srtp_profile_t prof;
  if (p->id == SRTP_AEAD_AES_128_GCM)
    prof = SFU_SRTP_AEAD_AES_128_GCM;
  else if (p->id == SRTP_AES128_CM_SHA1_80)
    prof = SFU_SRTP_AES128_CM_SHA1_80;
  else
    return VEIL_ESFU_DTLS_NO_SRTP;
  size_t kl = sfu_srtp_key_len(prof), sl = sfu_srtp_salt_len(prof);
  uint8_t km[2 * (SFU_SRTP_MAX_KEY + SFU_SRTP_MAX_SALT)];
  static const char label[] = "EXTRACTOR-dtls_srtp"; /* RFC 5764 §4.2 */
  if (SSL_export_keying_material(d->ssl, km, 2 * (kl + sl), label, sizeof label - 1, NULL, 0,
                                 0) != 1)
    return VEIL_ESFU_DTLS;
  /* client_write_key | server_write_key | client_write_salt | server_write_salt */
  const uint8_t *ck = km, *sk = km + kl, *cs = km + 2 * kl, *ss = km + 2 * kl + sl;
  int client = d->role == SFU_DTLS_ROLE_CLIENT;
  d->keys.profile = prof;
  d->keys.key_len = kl;
  d->keys.salt_len = sl;
  memcpy(d->keys.local_key, client ? ck : sk, kl);
  memcpy(d->keys.local_salt, client ? cs : ss, sl);
  memcpy(d->keys.remote_key, client ? sk : ck, kl);
  memcpy(d->keys.remote_salt, client ? ss : cs, sl);
  OPENSSL_cleanse(km, sizeof km);
  return 0;
}

static void advance_handshake(sfu_dtls_t *d) {
  ERR_clear_error();
  int r = SSL_do_handshake(d->ssl);
  if (r == 1) {
    int rc = export_keys(d);
    if (rc) {
      fail(d, rc);
    } else {
      d->state = SFU_DTLS_CONNECTED;
    }
  } else {
    int e = SSL_get_error(d->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) fail(d, VEIL_ESFU_DTLS);
  }
  drain_output(d);
}

int sfu_dtls_start(sfu_dtls_t *d, uint64_t now_ms) {
  if (d->state != SFU_DTLS_NEW) return VEIL_ESTATE;
  d->state = SFU_DTLS_HANDSHAKING;
  d->deadline_ms = now_ms + d->handshake_timeout_ms;
  if (d->role == SFU_DTLS_ROLE_CLIENT) advance_handshake(d);
  return d->state == SFU_DTLS_FAILED ? d->err : 0;
}

int sfu_dtls_handle_datagram(sfu_dtls_t *d, const uint8_t *data, size_t len, uint64_t now_ms) {
  switch (d->state) {
  case SFU_DTLS_NEW:
    /* A server may see the ClientHello before the shell called start. */
    if (d->role != SFU_DTLS_ROLE_SERVER) return VEIL_ESTATE;
    sfu_dtls_start(d, now_ms);
    break;
  case SFU_DTLS_HANDSHAKING:
  case SFU_DTLS_CONNECTED:
    break;
  case SFU_DTLS_FAILED:
  case SFU_DTLS_CLOSED:
    return VEIL_ESTATE;
  }
  if (len == 0 || len > 65535) return VEIL_EINVAL;
  if (BIO_write(d->rbio, data, (int)len) != (int)len) return VEIL_ENOMEM;
  if (d->state == SFU_DTLS_HANDSHAKING) {
    if (now_ms >= d->deadline_ms) {
      fail(d, VEIL_ESFU_DTLS_TIMEOUT);
    } else {
      advance_handshake(d);
    }
  }
  if (d->state == SFU_DTLS_CONNECTED) {
    /* After the handshake only alerts (close_notify) and retransmitted Finished flights
     * arrive; we carry no DTLS application data (SCTP comes later), so discard it. */
    uint8_t sink[2048];
    for (;;) {
      ERR_clear_error();
      int n = SSL_read(d->ssl, sink, sizeof sink);
      if (n > 0) continue;
      int e = SSL_get_error(d->ssl, n);
      if (e == SSL_ERROR_ZERO_RETURN || (SSL_get_shutdown(d->ssl) & SSL_RECEIVED_SHUTDOWN)) {
        d->state = SFU_DTLS_CLOSED;
      } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        fail(d, VEIL_ESFU_DTLS);
      }
      break;
    }
    OPENSSL_cleanse(sink, sizeof sink);
    drain_output(d);
  }
  /* Leftover bytes (a truncated record) must not prefix the next datagram. */
  (void)BIO_reset(d->rbio);
  return d->state == SFU_DTLS_FAILED ? d->err : 0;
}

long sfu_dtls_pop_datagram(sfu_dtls_t *d, uint8_t *buf, size_t cap) {
  if (d->out_n == 0) return 0;
  size_t n = d->out_len[d->out_head];
  if (n > cap) return VEIL_EOVERFLOW;
  memcpy(buf, d->out + d->out_off, n);
  d->out_off += n;
  d->out_head = (d->out_head + 1) % OUT_MAX;
  d->out_n--;
  return (long)n;
}

uint64_t sfu_dtls_next_timeout(const sfu_dtls_t *d, uint64_t now_ms) {
  if (d->state != SFU_DTLS_HANDSHAKING) return UINT64_MAX;
  uint64_t t = d->deadline_ms;
  struct timeval tv;
  if (DTLSv1_get_timeout(d->ssl, &tv) == 1) {
    uint64_t rel = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
    if (now_ms + rel < t) t = now_ms + rel;
  }
  return t;
}

int sfu_dtls_handle_timeout(sfu_dtls_t *d, uint64_t now_ms) {
  if (d->state != SFU_DTLS_HANDSHAKING) return 0;
  if (now_ms >= d->deadline_ms) {
    fail(d, VEIL_ESFU_DTLS_TIMEOUT);
    return d->err;
  }
  ERR_clear_error();
  if (DTLSv1_handle_timeout(d->ssl) < 0) fail(d, VEIL_ESFU_DTLS);
  drain_output(d);
  return d->state == SFU_DTLS_FAILED ? d->err : 0;
}

void sfu_dtls_close(sfu_dtls_t *d) {
  if (d->state == SFU_DTLS_CONNECTED) {
    ERR_clear_error();
    (void)SSL_shutdown(d->ssl);
    drain_output(d);
  }
  if (d->state != SFU_DTLS_FAILED) d->state = SFU_DTLS_CLOSED;
}

sfu_dtls_state_t sfu_dtls_state(const sfu_dtls_t *d) { return d->state; }
int sfu_dtls_error(const sfu_dtls_t *d) { return d->err; }

int sfu_dtls_srtp_keys(const sfu_dtls_t *d, sfu_dtls_srtp_keys_t *keys) {
  if (d->state != SFU_DTLS_CONNECTED) return VEIL_ESTATE;
  *keys = d->keys;
  return 0;
}
