/* sfu/rewrite — see rewrite.h. */
#include "sfu/rewrite.h"

#include <string.h>

void sfu_rewrite_init(sfu_rewrite_t *rw) { memset(rw, 0, sizeof *rw); }

void sfu_rewrite_switch(sfu_rewrite_t *rw) {
  if (rw->started) rw->resync = 1;
}

int sfu_rewrite_apply(sfu_rewrite_t *rw, uint16_t in_seq, uint32_t in_ts, uint64_t now_ms,
                      uint32_t clock_rate, uint16_t *out_seq, uint32_t *out_ts) {
  if (!rw->started) {
    /* First source: identity mapping (the publisher already randomised its start). */
    rw->started = 1;
    rw->seq_delta = 0;
    rw->ts_delta = 0;
    rw->base_in_seq = in_seq;
    rw->max_out_seq = (uint16_t)(in_seq - 1);
    rw->max_out_ts = in_ts;
    rw->max_out_ms = now_ms;
    rw->guard = 1;
  } else if (rw->resync) {
    rw->resync = 0;
    uint64_t gap_ms = now_ms > rw->max_out_ms ? now_ms - rw->max_out_ms : 0;
    uint64_t step = gap_ms * (uint64_t)clock_rate / 1000;
    if (step == 0) step = 1;
    if (step > 0x7fffffff) step = 0x7fffffff;
    rw->seq_delta = (uint16_t)(rw->max_out_seq + 1 - in_seq);
    rw->ts_delta = (uint32_t)(rw->max_out_ts + (uint32_t)step - in_ts);
    rw->base_in_seq = in_seq;
    rw->guard = 1;
  } else if (rw->guard) {
    int16_t d = (int16_t)(uint16_t)(in_seq - rw->base_in_seq);
    if (d < 0) return 1; /* from before the splice point of this source */
    /* Far enough past the splice that a late packet can no longer be from before it;
     * stop comparing, or wrap-around would make new packets look old after 2^15. */
    if (d > 0x1000) rw->guard = 0;
  }
  uint16_t s = (uint16_t)(in_seq + rw->seq_delta);
  uint32_t t = in_ts + rw->ts_delta;
  if ((int16_t)(uint16_t)(s - rw->max_out_seq) > 0) {
    rw->max_out_seq = s;
    rw->max_out_ts = t;
    rw->max_out_ms = now_ms;
  }
  *out_seq = s;
  *out_ts = t;
  return 0;
}
