/*
 * veil — SFrame over RTP: packetization (per frame, per packet) and per-frame reassembly
 * (RFC 9605 Appendix B.5; the payload format is specified in docs/protocol.md).
 *
 * The reassembler is a ring of max_packets slots indexed by extended sequence number
 * modulo the ring size, each with max_payload bytes of storage, plus one frame buffer;
 * everything is allocated by sframe_reasm_new and nothing afterwards. A slot is EMPTY,
 * HELD (payload waiting) or DONE (delivered or discarded: only its timestamp and marker
 * bit are kept, because they tell where the next frame starts). Frames end at a marker
 * payload, so only HELD marker payloads can complete a frame; their extended sequence
 * numbers are kept in a small list, and pop walks back from each (at most one window)
 * to find the frame's first payload. A push costs O(1), a pop O(markers held x frame
 * length): both bounded by the window, neither allocates.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/sframe/sframe_internal.h"

/* ---- send side ------------------------------------------------------------------- */

/* Splits len bytes into n parts that differ by at most one byte. */
static size_t part_len(size_t len, size_t n, size_t i) {
  return len / n + (i < len % n ? 1 : 0);
}

int sframe_rtp_packetize(sframe_ctx_t *c, sframe_rtp_mode_t mode, uint64_t kid,
                         const uint8_t *metadata, size_t meta_len, const uint8_t *frame,
                         size_t frame_len, size_t max_payload, uint8_t *buf, size_t cap,
                         sframe_rtp_payload_t *out, size_t max_out, size_t *n_out) {
  if (!buf || !out || max_out == 0 || (!frame && frame_len))
    return VEIL_EINVAL;
  uint64_t ctr;
  int rc = sframe_ctx_next_ctr(c, kid, &ctr);
  if (rc)
    return rc;
  size_t nt = sframe_suite_nt(sframe_ctx_suite(c));
  if (mode == SFRAME_RTP_PER_FRAME) {
    if (max_payload == 0)
      return VEIL_EINVAL;
    /* Check the payload count first so that a refusal spends no CTR. */
    size_t ct_len = sframe_ctx_ciphertext_len(c, kid, frame_len);
    size_t n = (ct_len + max_payload - 1) / max_payload;
    if (n > max_out)
      return VEIL_EOVERFLOW;
    rc = sframe_ctx_encrypt(c, kid, metadata, meta_len, frame, frame_len, buf, cap, &ct_len);
    if (rc)
      return rc;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
      out[i].ptr = buf + off;
      out[i].len = part_len(ct_len, n, i);
      out[i].marker = i + 1 == n;
      off += out[i].len;
    }
    *n_out = n;
    return 0;
  }
  if (mode != SFRAME_RTP_PER_PACKET)
    return VEIL_EINVAL;
  /* Per packet: every payload is a whole SFrame ciphertext. The header grows with the
   * CTR, so size chunks for the CTR of the last payload; more payloads can mean a longer
   * last CTR, so iterate to the fixed point (n only grows, and header sizes are few). */
  size_t n = 1, ovh = 0, room = 0;
  for (int iter = 0; iter < 10; iter++) {
    uint64_t last = UINT64_MAX - ctr < n - 1 ? UINT64_MAX : ctr + (n - 1);
    ovh = sframe_header_size(kid, last) + nt;
    if (max_payload <= ovh)
      return VEIL_EINVAL;
    room = max_payload - ovh;
    size_t want = frame_len ? (frame_len + room - 1) / room : 1;
    if (want <= n)
      break;
    n = want;
  }
  if (n > max_out)
    return VEIL_EOVERFLOW;
  if (cap < frame_len || (cap - frame_len) / n < ovh)
    return VEIL_EOVERFLOW;
  size_t in_off = 0, out_off = 0;
  for (size_t i = 0; i < n; i++) {
    size_t chunk = part_len(frame_len, n, i), ct_len;
    rc = sframe_ctx_encrypt(c, kid, metadata, meta_len, frame + in_off, chunk, buf + out_off,
                            cap - out_off, &ct_len);
    if (rc)
      return rc;
    out[i].ptr = buf + out_off;
    out[i].len = ct_len;
    out[i].marker = i + 1 == n;
    in_off += chunk;
    out_off += ct_len;
  }
  *n_out = n;
  return 0;
}

/* ---- receive side: reassembly ------------------------------------------------------ */

enum slot_state { SLOT_EMPTY = 0, SLOT_HELD, SLOT_DONE };

typedef struct slot {
  uint8_t state;  /* enum slot_state */
  uint8_t marker;
  uint32_t len;
  uint32_t ts;
  uint64_t ext;   /* extended sequence number */
} slot_t;

typedef struct marker_ref {
  uint64_t ext;       /* a HELD marker payload: the possible end of a frame */
  uint64_t tried_f;   /* first payload of an unknown-start candidate already refused, or 0 */
} marker_ref_t;

struct sframe_reasm {
  uint32_t n;          /* ring size (power of two) */
  uint32_t max_payload;
  uint32_t max_frame;
  uint32_t reorder_delay;
  int started;
  uint64_t highest;    /* highest extended sequence number seen */
  uint64_t delivered;  /* last payload of the last delivered frame, or 0 */
  uint64_t head;       /* last payload of the refused head of the stream (see pop), or 0 */
  uint64_t dropped;
  slot_t *slots;       /* owned, n */
  uint8_t *data;       /* owned, n * max_payload */
  uint8_t *frame;      /* owned, max_frame: the candidate being offered */
  marker_ref_t *markers; /* owned, n */
  uint32_t n_markers;
};

int sframe_reasm_new(sframe_reasm_t **out, const sframe_reasm_config_t *cfg) {
  *out = NULL;
  uint32_t n = cfg && cfg->max_packets ? cfg->max_packets : 256;
  uint32_t mp = cfg && cfg->max_payload ? cfg->max_payload : 1500;
  uint32_t rd = cfg && cfg->reorder_delay ? cfg->reorder_delay : (n / 2 < 16 ? n / 2 : 16);
  if (n < 16 || n > 4096 || (n & (n - 1)) || mp < 16 || mp > 9000 || rd >= n)
    return VEIL_ERANGE;
  uint32_t mf = cfg && cfg->max_frame ? cfg->max_frame : n * mp;
  sframe_reasm_t *r = calloc(1, sizeof(*r));
  if (!r)
    return VEIL_ENOMEM;
  r->n = n;
  r->max_payload = mp;
  r->max_frame = mf;
  r->reorder_delay = rd;
  r->slots = calloc(n, sizeof(*r->slots));
  r->data = malloc((size_t)n * mp);
  r->frame = malloc(mf ? mf : 1);
  r->markers = calloc(n, sizeof(*r->markers));
  if (!r->slots || !r->data || !r->frame || !r->markers) {
    sframe_reasm_free(r);
    return VEIL_ENOMEM;
  }
  *out = r;
  return 0;
}

void sframe_reasm_free(sframe_reasm_t *r) {
  if (!r)
    return;
  free(r->slots);
  free(r->data);
  free(r->frame);
  free(r->markers);
  free(r);
}

uint64_t sframe_reasm_dropped(const sframe_reasm_t *r) { return r->dropped; }

static slot_t *slot_at(sframe_reasm_t *r, uint64_t ext) { return &r->slots[ext & (r->n - 1)]; }

static void forget_marker(sframe_reasm_t *r, uint64_t ext) {
  for (uint32_t i = 0; i < r->n_markers; i++)
    if (r->markers[i].ext == ext) {
      r->markers[i] = r->markers[--r->n_markers];
      return;
    }
}

/* Retires a HELD slot without delivering it. */
static void discard(sframe_reasm_t *r, slot_t *s) {
  if (s->state == SLOT_HELD && s->marker) {
    forget_marker(r, s->ext);
    r->dropped++;
  }
  s->state = SLOT_DONE;
}

int sframe_reasm_push(sframe_reasm_t *r, uint16_t seq, uint32_t timestamp, int marker,
                      const uint8_t *payload, size_t len) {
  if (len > r->max_payload)
    return VEIL_ELIMIT;
  if (!payload && len)
    return VEIL_EINVAL;
  uint64_t ext;
  if (!r->started) {
    /* Start far from zero so extended numbers never underflow on early reordering. */
    ext = (UINT64_C(1) << 32) + seq;
    r->highest = ext;
    r->started = 1;
  } else {
    int16_t delta = (int16_t)(uint16_t)(seq - (uint16_t)r->highest);
    ext = r->highest + (uint64_t)(int64_t)delta;
  }
  if (ext + r->n <= r->highest || ext <= r->delivered)
    return 0; /* older than the window, or part of what was already delivered */
  slot_t *s = slot_at(r, ext);
  if (s->state != SLOT_EMPTY && s->ext == ext)
    return 0; /* duplicate */
  if (ext > r->highest) {
    /* Slots that now fall out of the window are retired (their frames are lost). */
    uint64_t from = r->highest + 1 > r->n ? r->highest + 1 - r->n : 0;
    uint64_t to = ext - r->n; /* inclusive */
    if (ext >= r->n && to >= from) {
      if (to - from >= r->n)
        from = to - r->n + 1;
      for (uint64_t e = from; e <= to; e++) {
        slot_t *o = slot_at(r, e);
        if (o->state == SLOT_HELD && o->ext == e)
          discard(r, o);
      }
    }
    r->highest = ext;
  }
  if (s->state == SLOT_HELD)
    discard(r, s); /* an older payload in the same slot (already out of the window) */
  s->state = SLOT_HELD;
  s->ext = ext;
  s->ts = timestamp;
  s->marker = marker ? 1 : 0;
  s->len = (uint32_t)len;
  if (len)
    memcpy(r->data + (size_t)(ext & (r->n - 1)) * r->max_payload, payload, len);
  if (s->marker && r->n_markers < r->n) {
    r->markers[r->n_markers].ext = ext;
    r->markers[r->n_markers].tried_f = 0;
    r->n_markers++;
  }
  return 0;
}

/* Walks back from the marker payload m to the frame's first payload. Returns 1 with *f set
 * when every payload f..m is held with m's timestamp, and *known telling whether the
 * payload before f is known to belong to another frame; 0 when a fragment is missing. */
static int frame_extent(sframe_reasm_t *r, uint64_t m, uint64_t *f, int *known) {
  uint32_t ts = slot_at(r, m)->ts;
  uint64_t e = m;
  for (uint32_t steps = 0; steps < r->n; steps++) {
    if (e - 1 == r->delivered) {
      *f = e, *known = 1;
      return 1;
    }
    slot_t *p = slot_at(r, e - 1);
    int present = p->state != SLOT_EMPTY && p->ext == e - 1;
    if (!present) {
      *f = e, *known = 0;
      return 1; /* unknown start: e-1 may have been this frame's first payload */
    }
    if (p->marker || p->ts != ts) {
      *f = e, *known = 1;
      return 1;
    }
    if (p->state != SLOT_HELD)
      return 0; /* same frame, already discarded: cannot complete */
    e--;
  }
  return 0;
}

static size_t gather(sframe_reasm_t *r, uint64_t f, uint64_t m, int *too_big) {
  size_t off = 0;
  *too_big = 0;
  for (uint64_t e = f; e <= m; e++) {
    slot_t *s = slot_at(r, e);
    if (s->len > r->max_frame - off) {
      *too_big = 1;
      return 0;
    }
    memcpy(r->frame + off, r->data + (size_t)(e & (r->n - 1)) * r->max_payload, s->len);
    off += s->len;
  }
  return off;
}

/* Retires f..m (delivered or refused) and everything held before f (older frames that can
 * no longer be delivered in order). */
static void retire(sframe_reasm_t *r, uint64_t f, uint64_t m, int delivered) {
  uint64_t lo = r->highest + 1 > r->n ? r->highest + 1 - r->n : 0;
  if (delivered) {
    for (uint64_t e = lo > r->delivered + 1 ? lo : r->delivered + 1; e < f; e++) {
      slot_t *s = slot_at(r, e);
      if (s->state == SLOT_HELD && s->ext == e)
        discard(r, s);
    }
  }
  for (uint64_t e = f; e <= m; e++)
    slot_at(r, e)->state = SLOT_DONE;
  forget_marker(r, m);
  if (delivered)
    r->delivered = m;
  else
    r->dropped++;
}

/* Whether a payload older than f (and newer than the last delivered frame and than the
 * refused head of the stream) is waiting. O(1) in the steady state, where f directly
 * follows the last delivered frame. */
static int held_before(sframe_reasm_t *r, uint64_t f) {
  uint64_t lo = r->highest + 1 > r->n ? r->highest + 1 - r->n : 0;
  uint64_t after = r->delivered > r->head ? r->delivered : r->head;
  for (uint64_t e = lo > after + 1 ? lo : after + 1; e < f; e++) {
    slot_t *s = slot_at(r, e);
    if (s->state == SLOT_HELD && s->ext == e)
      return 1;
  }
  return 0;
}

int sframe_reasm_pop(sframe_reasm_t *r, sframe_reasm_accept_cb accept, void *arg) {
  for (;;) {
    /* The oldest marker whose frame is complete and has not been refused as it is. */
    int found = 0, known = 0;
    uint64_t best_f = 0, best_m = 0;
    uint32_t best_i = 0;
    for (uint32_t i = 0; i < r->n_markers; i++) {
      uint64_t m = r->markers[i].ext, f;
      int k;
      if (found && m > best_m)
        continue;
      if (!frame_extent(r, m, &f, &k))
        continue;
      if (!k && (!accept || r->markers[i].tried_f == f))
        continue;
      found = 1, known = k, best_f = f, best_m = m, best_i = i;
    }
    if (!found)
      return 0;
    /* In-order delivery: while an older frame still has payloads waiting, give its late
     * fragments reorder_delay more packets to arrive before giving up on it. */
    if (held_before(r, best_f) && r->highest < best_m + r->reorder_delay)
      return 0;
    int too_big;
    uint32_t ts = slot_at(r, best_m)->ts;
    size_t len = gather(r, best_f, best_m, &too_big);
    if (too_big) {
      retire(r, best_f, best_m, 0);
      continue;
    }
    int rc = accept ? accept(arg, r->frame, len, ts, known) : 0;
    if (rc == 0) {
      retire(r, best_f, best_m, 1);
      return 1;
    }
    if (known)
      retire(r, best_f, best_m, 0);
    else {
      r->markers[best_i].tried_f = best_f;
      /* A refused unknown-start candidate with nothing before it is the stream's head:
       * the stream began mid-frame, or before the receiver held the frame's epoch (an SFU
       * forwards from the subscription on and never sends older packets). It does not
       * hold later frames back: waiting reorder_delay packets behind it (a second of
       * video) let MLS epochs expire under frames that were current on arrival (issue 9). */
      if (!r->delivered && !held_before(r, best_f) && best_m > r->head)
        r->head = best_m;
    }
  }
}

/* ---- receive side: reassembly + decryption ------------------------------------------ */

typedef struct depkt {
  sframe_ctx_t *c;
  const uint8_t *meta;
  size_t meta_len;
  uint8_t *out;
  size_t cap;
  size_t *out_len;
  sframe_header_t *hdr;
} depkt_t;

static int decrypt_cb(void *arg, const uint8_t *frame, size_t len, uint32_t ts, int known) {
  (void)ts, (void)known;
  depkt_t *d = arg;
  return sframe_ctx_decrypt(d->c, d->meta, d->meta_len, frame, len, d->out, d->cap,
                            d->out_len, d->hdr);
}

int sframe_rtp_depacketize(sframe_reasm_t *r, sframe_ctx_t *c, const uint8_t *metadata,
                           size_t meta_len, uint8_t *out, size_t out_cap, size_t *out_len,
                           sframe_header_t *hdr) {
  depkt_t d = {c, metadata, meta_len, out, out_cap, out_len, hdr};
  return sframe_reasm_pop(r, decrypt_cb, &d);
}
