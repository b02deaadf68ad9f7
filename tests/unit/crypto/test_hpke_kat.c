/*
 * Known answers of RFC 9180 Appendix A for the HKDF-SHA384/512 suites we support.
 *
 * The shared vector file (tests/vectors/crypto/vectors_hpke.c) carries KDF 0x0001 only, so
 * without these the SHA-384/512 key schedules were checked by round trips alone, which an
 * implementation that used the wrong hash on both sides would pass. Appendix A has one
 * applicable suite: A.4, DHKEM(P-256, HKDF-SHA256), HKDF-SHA512, AES-128-GCM, in all four
 * modes. (Its only other SHA-512 suite, A.6, uses DHKEM(P-521), which hpke.h does not
 * implement; no appendix suite uses HKDF-SHA384.)
 *
 * Per mode: DeriveKeyPair of every ikm, Encap/AuthEncap with the vector's ikmE and
 * Decap/AuthDecap, setup on both sides (enc, key, base_nonce, exporter_secret), the
 * encryptions at sequence numbers 0, 1 and 256 sealed to exactly the vector's ct and opened
 * back, and the three exports from both contexts. Built twice (Criterion on OpenSSL, the
 * tapshim on BoringSSL), so both backends are checked.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "clients/lib/crypto/hpke.h"
#include "common/hex.h"

/* The inputs every Appendix A entry shares. */
#define INFO "4f6465206f6e2061204772656369616e2055726e" /* "Ode on a Grecian Urn" */
#define PT "4265617574792069732074727574682c20747275746820626561757479"
#define PSK "0247fd33b913760fa1fa51e1892d9f307fbe65eb171e8132c2af18555a738b82"
#define PSK_ID "456e6e796e20447572696e206172616e204d6f726961"

typedef struct kat_enc {
  uint64_t seq;
  const char *aad, *ct;
} kat_enc_t;

typedef struct kat {
  hpke_mode_t mode;
  const char *ikmE, *skEm, *pkEm, *ikmR, *skRm, *pkRm, *ikmS, *skSm, *pkSm;
  const char *shared_secret, *key, *base_nonce, *exporter_secret;
  kat_enc_t enc[3];
  const char *exported[3]; /* contexts "", 00, "TestContext"; L = 32 */
} kat_t;

static const hpke_suite_t k_a4 = {HPKE_KEM_P256_SHA256, HPKE_KDF_SHA512, HPKE_AEAD_AES128GCM};
static const char *const k_export_ctx[3] = {"", "00", "54657374436f6e74657874"};

/* Decodes a hex literal into buf (the literal must be valid and fit). */
static size_t unhex(const char *s, uint8_t *buf, size_t cap) {
  long n = veil_hex_decode(s, strlen(s), buf, cap);
  cr_assert_geq(n, 0, "bad hex literal in test: %s", s);
  return (size_t)n;
}

static void assert_hex(const char *what, const uint8_t *got, size_t len, const char *want) {
  uint8_t w[128];
  size_t n = unhex(want, w, sizeof(w));
  cr_assert_eq(n, len, "%s: length %zu, want %zu", what, len, n);
  cr_assert_arr_eq(got, w, n, "%s differs", what);
}

/* DeriveKeyPair (§7.1.3) of the vector's ikm gives its sk and pk. */
static void check_dkp(const char *ikm_hex, const char *sk_hex, const char *pk_hex, uint8_t *sk,
                      uint8_t *pk) {
  uint8_t ikm[64];
  size_t n = unhex(ikm_hex, ikm, sizeof(ikm));
  cr_assert_eq(hpke_derive_key_pair(k_a4.kem_id, ikm, n, sk, pk), 0);
  assert_hex("sk", sk, HPKE_SK_MAX, sk_hex);
  assert_hex("pk", pk, hpke_kem_npk(k_a4.kem_id), pk_hex);
}

static void check_ctx(const hpke_ctx_t *c, const kat_t *k) {
  assert_hex("key", c->key, c->key_len, k->key);
  assert_hex("base_nonce", c->base_nonce, VC_AEAD_NONCE_LEN, k->base_nonce);
  assert_hex("exporter_secret", c->exporter_secret, c->exporter_len, k->exporter_secret);
}

static void run_kat(const kat_t *k) {
  int auth = k->mode == HPKE_MODE_AUTH || k->mode == HPKE_MODE_AUTH_PSK;
  int psk = k->mode == HPKE_MODE_PSK || k->mode == HPKE_MODE_AUTH_PSK;
  size_t npk = hpke_kem_npk(k_a4.kem_id);
  uint8_t skR[HPKE_SK_MAX], pkR[HPKE_PK_MAX], skE[HPKE_SK_MAX], pkE[HPKE_PK_MAX];
  uint8_t skS[HPKE_SK_MAX], pkS[HPKE_PK_MAX];
  check_dkp(k->ikmR, k->skRm, k->pkRm, skR, pkR);
  check_dkp(k->ikmE, k->skEm, k->pkEm, skE, pkE);
  if (auth)
    check_dkp(k->ikmS, k->skSm, k->pkSm, skS, pkS);

  uint8_t ikmE[64], info[64], psk_b[32], psk_id[32], ss[HPKE_SECRET_MAX], enc[HPKE_ENC_MAX];
  size_t ikmE_len = unhex(k->ikmE, ikmE, sizeof(ikmE));
  size_t info_len = unhex(INFO, info, sizeof(info)), enc_len = 0;

  /* The KEM alone; enc is Marshal(pkE). */
  cr_assert_eq(hpke_encap(k_a4.kem_id, pkR, npk, auth ? skS : NULL, ikmE, ikmE_len, ss, enc,
                          &enc_len),
               0);
  assert_hex("enc", enc, enc_len, k->pkEm);
  assert_hex("shared_secret (encap)", ss, sizeof(ss), k->shared_secret);
  memset(ss, 0, sizeof(ss));
  cr_assert_eq(hpke_decap(k_a4.kem_id, enc, enc_len, skR, auth ? pkS : NULL, auth ? npk : 0, ss),
               0);
  assert_hex("shared_secret (decap)", ss, sizeof(ss), k->shared_secret);

  hpke_mode_params_t ps = {0}, pr = {0};
  if (psk) {
    ps.psk = pr.psk = psk_b;
    ps.psk_len = pr.psk_len = unhex(PSK, psk_b, sizeof(psk_b));
    ps.psk_id = pr.psk_id = psk_id;
    ps.psk_id_len = pr.psk_id_len = unhex(PSK_ID, psk_id, sizeof(psk_id));
  }
  if (auth) {
    ps.sender_sk = skS;
    pr.sender_pk = pkS;
    pr.sender_pk_len = npk;
  }
  hpke_ctx_t s, r;
  enc_len = 0;
  cr_assert_eq(hpke_setup_sender(&s, k_a4, k->mode, pkR, npk, info, info_len, &ps, ikmE,
                                 ikmE_len, enc, &enc_len),
               0);
  assert_hex("enc (setup)", enc, enc_len, k->pkEm);
  cr_assert_eq(s.exporter_len, 64); /* Nh of HKDF-SHA512 */
  check_ctx(&s, k);
  cr_assert_eq(hpke_setup_receiver(&r, k_a4, k->mode, enc, enc_len, skR, info, info_len, &pr),
               0);
  check_ctx(&r, k);

  /* §5.2: nonce = base_nonce XOR seq. 0 then 1 follow from setup; 256 is reached by
   * setting the counter, and checks that seq reaches the nonce's second-to-last byte. */
  uint8_t pt[64], aad[16], want[96], ct[96], out[64];
  size_t pt_len = unhex(PT, pt, sizeof(pt));
  for (size_t i = 0; i < 3; i++) {
    const kat_enc_t *e = &k->enc[i];
    size_t aad_len = unhex(e->aad, aad, sizeof(aad)), ct_len = unhex(e->ct, want, sizeof(want));
    cr_assert_eq(ct_len, pt_len + VC_AEAD_TAG_LEN);
    s.seq = r.seq = e->seq;
    cr_assert_eq(hpke_seal(&s, aad, aad_len, pt, pt_len, ct), 0, "seal seq %llu",
                 (unsigned long long)e->seq);
    cr_assert_arr_eq(ct, want, ct_len, "ct at seq %llu", (unsigned long long)e->seq);
    cr_assert_eq(s.seq, e->seq + 1);
    if (i == 0) { /* a flipped tag bit fails and leaves the counter alone */
      want[ct_len - 1] ^= 0x80;
      cr_assert_eq(hpke_open(&r, aad, aad_len, want, ct_len, out), VEIL_EAUTH);
      cr_assert_eq(r.seq, e->seq);
      want[ct_len - 1] ^= 0x80;
    }
    cr_assert_eq(hpke_open(&r, aad, aad_len, want, ct_len, out), 0, "open seq %llu",
                 (unsigned long long)e->seq);
    cr_assert_arr_eq(out, pt, pt_len);
    cr_assert_eq(r.seq, e->seq + 1);
  }

  for (size_t i = 0; i < 3; i++) {
    uint8_t ectx[16], e1[32], e2[32];
    size_t ectx_len = unhex(k_export_ctx[i], ectx, sizeof(ectx));
    cr_assert_eq(hpke_export(&s, ectx, ectx_len, e1, sizeof(e1)), 0);
    cr_assert_eq(hpke_export(&r, ectx, ectx_len, e2, sizeof(e2)), 0);
    assert_hex("export (sender)", e1, sizeof(e1), k->exported[i]);
    assert_hex("export (receiver)", e2, sizeof(e2), k->exported[i]);
  }
  hpke_ctx_wipe(&s);
  hpke_ctx_wipe(&r);
}

/* RFC 9180 A.4.1 */
Test(hpke_kat, p256_sha512_aes128gcm_base) {
  static const kat_t k = {
      .mode = HPKE_MODE_BASE,
      .ikmE = "4ab11a9dd78c39668f7038f921ffc0993b368171d3ddde8031501ee1e08c4c9a",
      .pkEm = "0493ed86735bdfb978cc055c98b45695ad7ce61ce748f4dd63c525a3b8d53a1556"
              "5c6897888070070c1579db1f86aaa56deb8297e64db7e8924e72866f9a472580",
      .skEm = "2292bf14bb6e15b8c81a0f45b7a6e93e32d830e48cca702e0affcfb4d07e1b5c",
      .ikmR = "ea9ff7cc5b2705b188841c7ace169290ff312a9cb31467784ca92d7a2e6e1be8",
      .pkRm = "04085aa5b665dc3826f9650ccbcc471be268c8ada866422f739e2d531d4a8818a9"
              "466bc6b449357096232919ec4fe9070ccbac4aac30f4a1a53efcf7af90610edd",
      .skRm = "3ac8530ad1b01885960fab38cf3cdc4f7aef121eaa239f222623614b4079fb38",
      .shared_secret = "02f584736390fc93f5b4ad039826a3fa08e9911bd1215a3db8e8791ba533cafd",
      .key = "090ca96e5f8aa02b69fac360da50ddf9",
      .base_nonce = "9c995e621bf9a20c5ca45546",
      .exporter_secret = "4a7abb2ac43e6553f129b2c5750a7e82d149a76ed56dc342d7bca61"
                         "e26d494f4855dff0d0165f27ce57756f7f16baca006539bb8e4518987ba610480ac03efa"
                         "8",
      .enc = {{0, "436f756e742d30",
               "d3cf4984931484a080f74c1bb2a6782700dc1fef9abe8442e44a6f09044c88907200"
               "b332003543754eb51917ba"},
              {1, "436f756e742d31",
               "d14414555a47269dfead9fbf26abb303365e40709a4ed16eaefe1f2070f1ddeb1bdd"
               "94d9e41186f124e0acc62d"},
              {256, "436f756e742d323536",
               "62092672f5328a0dde095e57435edf7457ace60b26ee44c9291110ec135cb0e14b85"
               "594e4fea11247d937deb62"}},
      .exported = {"a32186b8946f61aeead1c093fe614945f85833b165b28c46bf271abf16b57208",
                   "84998b304a0ea2f11809398755f0abd5f9d2c141d1822def79dd15c194803c2a",
                   "93fb9411430b2cfa2cf0bed448c46922a5be9beff20e2e621df7e4655852edbc"},
  };
  run_kat(&k);
}

/* RFC 9180 A.4.2 */
Test(hpke_kat, p256_sha512_aes128gcm_psk) {
  static const kat_t k = {
      .mode = HPKE_MODE_PSK,
      .ikmE = "c11d883d6587f911d2ddbc2a0859d5b42fb13bf2c8e89ef408a25564893856f5",
      .pkEm = "04a307934180ad5287f95525fe5bc6244285d7273c15e061f0f2efb211c35057f3"
              "079f6e0abae200992610b25f48b63aacfcb669106ddee8aa023feed301901371",
      .skEm = "a5901ff7d6931959c2755382ea40a4869b1dec3694ed3b009dda2d77dd488f18",
      .ikmR = "75bfc2a3a3541170a54c0b06444e358d0ee2b4fb78a401fd399a47a33723b700",
      .pkRm = "043f5266fba0742db649e1043102b8a5afd114465156719cea90373229aabdd84d"
              "7f45dabfc1f55664b888a7e86d594853a6cccdc9b189b57839cbbe3b90b55873",
      .skRm = "bc6f0b5e22429e5ff47d5969003f3cae0f4fec50e23602e880038364f33b8522",
      .shared_secret = "2912aacc6eaebd71ff715ea50f6ef3a6637856b2a4c58ea61e0c3fc159e3bc16",
      .key = "0b910ba8d9cfa17e5f50c211cb32839a",
      .base_nonce = "0c29e714eb52de5b7415a1b7",
      .exporter_secret = "50c0a182b6f94b4c0bd955c4aa20df01f282cc12c43065a0812fe4d"
                         "4352790171ed2b2c4756ad7f5a730ba336c8f1edd0089d8331192058c385bae39c7cc8b5"
                         "7",
      .enc = {{0, "436f756e742d30",
               "57624b6e320d4aba0afd11f548780772932f502e2ba2a8068676b2a0d3b5129a45b9"
               "faa88de39e8306da41d4cc"},
              {1, "436f756e742d31",
               "159d6b4c24bacaf2f5049b7863536d8f3ffede76302dace42080820fa51925d4e1c7"
               "2a64f87b14291a3057e00a"},
              {256, "436f756e742d323536",
               "cc161f5a179831d456d119d2f2c19a6817289c75d1c61cd37ac8a450acd9efba02e0"
               "ac00d128c17855931ff69a"}},
      .exported = {"8158bea21a6700d37022bb7802866edca30ebf2078273757b656ef7fc2e428cf",
                   "6a348ba6e0e72bb3ef22479214a139ef8dac57be34509a61087a12565473da8d",
                   "2f6d4f7a18ec48de1ef4469f596aada4afdf6d79b037ed3c07e0118f8723bffc"},
  };
  run_kat(&k);
}

/* RFC 9180 A.4.3 */
Test(hpke_kat, p256_sha512_aes128gcm_auth) {
  static const kat_t k = {
      .mode = HPKE_MODE_AUTH,
      .ikmE = "6bb031aa9197562da0b44e737db2b9e61f6c3ea1138c37de28fc37ac29bc7350",
      .pkEm = "04fec59fa9f76f5d0f6c1660bb179cb314ed97953c53a60ab38f8e6ace60fd5917"
              "8084d0dd66e0f79172992d4ddb2e91172ce24949bcebfff158dcc417f2c6e9c6",
      .skEm = "93cddd5288e7ef4884c8fe321d075df01501b993ff49ffab8184116f39b3c655",
      .ikmR = "649a3f92edbb7a2516a0ade0b7dccc58a37240c4ba06f9726a952227b4adf6ff",
      .pkRm = "04378bad519aab406e04d0e5608bcca809c02d6afd2272d4dd03e9357bd0eee8ad"
              "f84c8deba3155c9cf9506d1d4c8bfefe3cf033a75716cc3cc07295100ec96276",
      .skRm = "1ea4484be482bf25fdb2ed39e6a02ed9156b3e57dfb18dff82e4a048de990236",
      .ikmS = "4d79b8691aab55a7265e8490a04bb3860ed64dece90953ad0dc43a6ea59b4bf2",
      .pkSm = "0404d3c1f9fca22eb4a6d326125f0814c35593b1da8ea0d11a640730b215a259b9"
              "b98a34ad17e21617d19fe1d4fa39a4828bfdb306b729ec51c543caca3b2d9529",
      .skSm = "02b266d66919f7b08f42ae0e7d97af4ca98b2dae3043bb7e0740ccadc1957579",
      .shared_secret = "1ed49f6d7ada333d171cd63861a1cb700a1ec4236755a9cd5f9f8f67a2f8e7b3",
      .key = "9d4b1c83129f3de6db95faf3d539dcf1",
      .base_nonce = "ea4fd7a485ee5f1f4b62c1b7",
      .exporter_secret = "ca2410672369aae1afd6c2639f4fe34ca36d35410c090608d2924f6"
                         "0def17f910d7928575434d7f991b1f19d3e8358b8278ff59ced0d5eed4774cec72e12766"
                         "e",
      .enc = {{0, "436f756e742d30",
               "2480179d880b5f458154b8bfe3c7e8732332de84aabf06fc440f6b31f169e154157f"
               "a9eb44f2fa4d7b38a9236e"},
              {1, "436f756e742d31",
               "10cd81e3a816d29942b602a92884348171a31cbd0f042c3057c65cd93c540943a5b0"
               "5115bd520c09281061935b"},
              {256, "436f756e742d323536",
               "247da592cc4ce834a94de2c79f5730ee49342470a021e4a4bc2bb77c53b17413e94d"
               "94f57b4fdaedcf97cfe7b1"}},
      .exported = {"f03fbc82f321a0ab4840e487cb75d07aafd8e6f68485e4f7ff72b2f55ff24ad6",
                   "1ce0cadec0a8f060f4b5070c8f8888dcdfefc2e35819df0cd559928a11ff0891",
                   "70c405c707102fd0041ea716090753be47d68d238b111d542846bd0d84ba907c"},
  };
  run_kat(&k);
}

/* RFC 9180 A.4.4 */
Test(hpke_kat, p256_sha512_aes128gcm_auth_psk) {
  static const kat_t k = {
      .mode = HPKE_MODE_AUTH_PSK,
      .ikmE = "37ae06a521cd555648c928d7af58ad2aa4a85e34b8cabd069e94ad55ab872cc8",
      .pkEm = "04801740f4b1b35823f7fb2930eac2efc8c4893f34ba111c0bb976e3c7d5dc0aef"
              "5a7ef0bf4057949a140285f774f1efc53b3860936b92279a11b68395d898d138",
      .skEm = "778f2254ae5d661d5c7fca8c4a7495a25bd13f26258e459159f3899df0de76c1",
      .ikmR = "7466024b7e2d2366c3914d7833718f13afb9e3e45bcfbb510594d614ddd9b4e7",
      .pkRm = "04a4ca7af2fc2cce48edbf2f1700983e927743a4e85bb5035ad562043e25d9a111"
              "cbf6f7385fac55edc5c9d2ca6ed351a5643de95c36748e11dbec98730f4d43e9",
      .skRm = "00510a70fde67af487c093234fc4215c1cdec09579c4b30cc8e48cb530414d0e",
      .ikmS = "ee27aaf99bf5cd8398e9de88ac09a82ac22cdb8d0905ab05c0f5fa12ba1709f3",
      .pkSm = "04b59a4157a9720eb749c95f842a5e3e8acdccbe834426d405509ac3191e23f216"
              "5b5bb1f07a6240dd567703ae75e13182ee0f69fc102145cdb5abf681ff126d60",
      .skSm = "d743b20821e6326f7a26684a4beed7088b35e392114480ca9f6c325079dcf10b",
      .shared_secret = "02bee8be0dda755846115db45071c0cf59c25722e015bde1c124de849c0fea52",
      .key = "b68bb0e2fbf7431cedb46cc3b6f1fe9e",
      .base_nonce = "76af62719d33d39a1cb6be9f",
      .exporter_secret = "7f72308ae68c9a2b3862e686cb547b16d33d00fe482c770c4717d8b"
                         "54e9b1e547244c3602bdd86d5a788a8443befea0a7658002b23f1c96a62a64986fffc511"
                         "a",
      .enc = {{0, "436f756e742d30",
               "840669634db51e28df54f189329c1b727fd303ae413f003020aff5e26276aaa910fc"
               "4296828cb9d862c2fd7d16"},
              {1, "436f756e742d31",
               "d4680a48158d9a75fd09355878d6e33997a36ee01d4a8f22032b22373b795a941b7b"
               "9c5205ff99e0ff284beef4"},
              {256, "436f756e742d323536",
               "9f659482ebc52f8303f9eac75656d807ec38ce2e50c72e3078cd13d86b30e3f89069"
               "0a873277620f8a6a42d836"}},
      .exported = {"c8c917e137a616d3d4e4c9fcd9c50202f366cb0d37862376bc79f9b72e8a8db9",
                   "33a5d4df232777008a06d0684f23bb891cfaef702f653c8601b6ad4d08dddddf",
                   "bed80f2e54f1285895c4a3f3b3625e6206f78f1ed329a0cfb5864f7c139b3c6a"},
  };
  run_kat(&k);
}
