/* sfu/srtp — see srtp.h. */
#include "sfu/srtp.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "common/err.h"
#include "common/log.h"
#include "sfu/srtp_gcm.h"

struct sfu_srtp {
  srtp_t ctx; /* owned */
  sfu_srtp_dir_t dir;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_err;
static int g_gcm_ossl;

static void global_init(void) {
  g_init_err = srtp_init() == srtp_err_status_ok ? 0 : VEIL_ESFU_SRTP;
  /* AES-GCM on OpenSSL instead of the distribution's NSS backend (srtp_gcm.h says why).
   * VEIL_SRTP_NATIVE_GCM=1 keeps libsrtp's own, for comparisons. */
  const char *native = getenv("VEIL_SRTP_NATIVE_GCM");
  if (g_init_err == 0 && !(native && native[0] == '1')) {
    g_gcm_ossl = sfu_srtp_gcm_install() == 0;
    if (!g_gcm_ossl) veil_log(VEIL_LOG_WARN, "sfu", "srtp_gcm_fallback", "reason=self_test_failed");
  }
}

int sfu_srtp_gcm_is_openssl(void) {
  sfu_srtp_global_init();
  return g_gcm_ossl;
}

int sfu_srtp_global_init(void) {
  pthread_once(&g_once, global_init);
  return g_init_err;
}

size_t sfu_srtp_key_len(sfu_srtp_profile_t profile) {
  switch (profile) {
  case SFU_SRTP_AES128_CM_SHA1_80: return 16;
  case SFU_SRTP_AEAD_AES_128_GCM: return 16;
  }
  return 0;
}

size_t sfu_srtp_salt_len(sfu_srtp_profile_t profile) {
  switch (profile) {
  case SFU_SRTP_AES128_CM_SHA1_80: return 14;
  case SFU_SRTP_AEAD_AES_128_GCM: return 12;
  }
  return 0;
}

const char *sfu_srtp_profile_name(sfu_srtp_profile_t profile) {
  switch (profile) {
  case SFU_SRTP_AES128_CM_SHA1_80: return "SRTP_AES128_CM_SHA1_80";
  case SFU_SRTP_AEAD_AES_128_GCM: return "SRTP_AEAD_AES_128_GCM";
  }
  return NULL;
}

static int map_err(srtp_err_status_t st) {
  switch (st) {
  case srtp_err_status_ok: return 0;
  case srtp_err_status_auth_fail: return VEIL_ESFU_SRTP_AUTH;
  case srtp_err_status_replay_fail:
  case srtp_err_status_replay_old: return VEIL_ESFU_SRTP_REPLAY;
  case srtp_err_status_bad_param: return VEIL_EINVAL;
  case srtp_err_status_alloc_fail: return VEIL_ENOMEM;
  default: return VEIL_ESFU_SRTP;
  }
}

int sfu_srtp_new(sfu_srtp_profile_t profile, sfu_srtp_dir_t dir, const uint8_t *key,
                 size_t key_len, const uint8_t *salt, size_t salt_len, sfu_srtp_t **out) {
  *out = NULL;
  int rc = sfu_srtp_global_init();
  if (rc) return rc;
  size_t kl = sfu_srtp_key_len(profile), sl = sfu_srtp_salt_len(profile);
  if (kl == 0 || key_len != kl || salt_len != sl) return VEIL_EINVAL;
  if (dir != SFU_SRTP_INBOUND && dir != SFU_SRTP_OUTBOUND) return VEIL_EINVAL;

  /* libsrtp takes key || salt as one master key buffer (RFC 3711 §8.2 order). */
  uint8_t master[SFU_SRTP_MAX_KEY + SFU_SRTP_MAX_SALT];
  memcpy(master, key, kl);
  memcpy(master + kl, salt, sl);

  srtp_policy_t pol;
  memset(&pol, 0, sizeof pol);
  if (profile == SFU_SRTP_AES128_CM_SHA1_80) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
  } else {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
  }
  pol.ssrc.type = dir == SFU_SRTP_INBOUND ? ssrc_any_inbound : ssrc_any_outbound;
  pol.key = master;
  /* RFC 3711 §3.3.2: replay list; libsrtp's default is 128, we widen it for bursts. */
  pol.window_size = 1024;
  /* The SFU never sends the same (SSRC, index) twice: rewriting makes indices unique. */
  pol.allow_repeat_tx = 0;

  sfu_srtp_t *s = calloc(1, sizeof *s);
  if (!s) {
    OPENSSL_cleanse(master, sizeof master);
    return VEIL_ENOMEM;
  }
  s->dir = dir;
  srtp_err_status_t st = srtp_create(&s->ctx, &pol);
  OPENSSL_cleanse(master, sizeof master);
  if (st != srtp_err_status_ok) {
    free(s);
    return map_err(st);
  }
  *out = s;
  return 0;
}

void sfu_srtp_free(sfu_srtp_t *s) {
  if (!s) return;
  /* srtp_dealloc zeroises the session keys it holds. */
  srtp_dealloc(s->ctx);
  free(s);
}

static int check_protect(const sfu_srtp_t *s, size_t len, size_t cap) {
  if (s->dir != SFU_SRTP_OUTBOUND) return VEIL_EINVAL;
  if (len > INT_MAX || cap < len || cap - len < SFU_SRTP_MAX_OVERHEAD) return VEIL_EOVERFLOW;
  return 0;
}

int sfu_srtp_protect_rtp(sfu_srtp_t *s, uint8_t *buf, size_t *len, size_t cap) {
  int rc = check_protect(s, *len, cap);
  if (rc) return rc;
  int l = (int)*len;
  rc = map_err(srtp_protect(s->ctx, buf, &l));
  if (rc == 0) *len = (size_t)l;
  return rc;
}

int sfu_srtp_protect_rtcp(sfu_srtp_t *s, uint8_t *buf, size_t *len, size_t cap) {
  int rc = check_protect(s, *len, cap);
  if (rc) return rc;
  int l = (int)*len;
  rc = map_err(srtp_protect_rtcp(s->ctx, buf, &l));
  if (rc == 0) *len = (size_t)l;
  return rc;
}

int sfu_srtp_unprotect_rtp(sfu_srtp_t *s, uint8_t *buf, size_t *len) {
  if (s->dir != SFU_SRTP_INBOUND || *len > INT_MAX) return VEIL_EINVAL;
  int l = (int)*len;
  int rc = map_err(srtp_unprotect(s->ctx, buf, &l));
  if (rc == 0) *len = (size_t)l;
  return rc;
}

int sfu_srtp_unprotect_rtcp(sfu_srtp_t *s, uint8_t *buf, size_t *len) {
  if (s->dir != SFU_SRTP_INBOUND || *len > INT_MAX) return VEIL_EINVAL;
  int l = (int)*len;
  int rc = map_err(srtp_unprotect_rtcp(s->ctx, buf, &l));
  if (rc == 0) *len = (size_t)l;
  return rc;
}
