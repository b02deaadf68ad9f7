/* veil-load run internals shared by runner.c (threads, clock, aggregation) and
 * participant.c (one simulated participant on a worker loop). Not a public header. */
#ifndef VEIL_CLIENTS_LOAD_RUNNER_INT_H
#define VEIL_CLIENTS_LOAD_RUNNER_INT_H

#include <stdatomic.h>
#include <uv.h>

#include "clients/lib/session/vs_identity.h"
#include "clients/lib/session/vs_session.h"
#include "clients/load/media.h"
#include "clients/load/plan.h"
#include "clients/load/runner.h"
#include "clients/load/rxtrack.h"
#include "clients/load/target.h"
#include "clients/load/tokens.h"

typedef struct load_worker load_worker_t;
typedef struct load_runctx load_runctx_t;

typedef enum lp_state {
  LP_STARTED = 1,   /* session started, not yet in the group */
  LP_MEMBER,        /* saw its first epoch */
  LP_CLOSED,        /* left or failed: handles closing, freed after a grace time */
} lp_state_t;

/* Cumulative counters of one session, to turn its stats into per-second deltas. */
typedef struct lp_counters {
  uint64_t sent, frames, decrypted, verified, failures, corrupt, replayed, lat_sum_us, packets, rtp_expected, rtp_lost;
  uint64_t auth_failed, unknown_kid, not_sframe, wrong_sender;
  uint64_t early;                /* frame starts under an epoch we did not hold yet */
} lp_counters_t;

typedef struct lp {
  load_worker_t *w;              /* borrowed */
  const load_slot_t *slot;       /* borrowed from the plan */
  vs_identity_t id;              /* owned */
  int have_id;
  char *token;                   /* owned */
  vs_session_t *s;               /* owned */
  lp_state_t state;
  int leaving;                   /* we asked it to leave: a close is expected */
  uint64_t start_us, closed_us;  /* monotonic */
  uint64_t epoch;
  uint64_t first_epoch;          /* the epoch we joined in (Welcome) */
  uint32_t members;
  lp_counters_t prev;
  load_rxmap_t rx;               /* owned */
  uint64_t early;                /* cumulative, from the packet tap */
  uint64_t bit_exact;            /* cumulative: frames of the verify-every sample that passed */
  uint64_t early_credit;         /* early frames not yet matched to a refusal */
  uint32_t credit_age;           /* polls since the credit last grew */
  load_source_t src[2];          /* media model on the wire (vs_session frame_source) */
  struct lp *next;
} lp_t;

struct load_worker {
  load_runctx_t *run;            /* borrowed */
  uint32_t id;
  uv_loop_t loop;
  uv_thread_t thread;
  uv_timer_t tick, stats;
  uv_async_t stop;
  load_stats_t sec;              /* this second; only this thread touches it */
  uint32_t next_slot;            /* next plan slot this worker may start */
  lp_t *active, *closed;         /* owned lists */
  int stopping;
};

/* One participant's state at the end of the run. */
typedef struct load_final {
  uint32_t idx;
  int member;
  uint64_t epoch;
  char code[128];
} load_final_t;

struct load_runctx {
  const load_scenario_t *sc;     /* borrowed */
  load_plan_t plan;              /* owned */
  load_tokens_t *tokens;         /* owned */
  load_target_t target;
  uint32_t nthreads;
  load_worker_t *workers;        /* owned array */
  uint64_t t0_us;                /* monotonic start */
  uv_mutex_t mu;                 /* guards cur, finals, nfinals */
  load_stats_t cur;              /* merged by the workers since the last sample */
  load_final_t *finals;          /* owned, plan.n entries */
  uint32_t nfinals;
  atomic_uint members;           /* participants currently in the group */
  atomic_uint ramp_target;       /* ramp: slots below this index may join */
  atomic_ullong max_epoch;
  atomic_uint errors_printed;
};

uint64_t load_run_now_ms(const load_runctx_t *r);
/* participant.c */
int lp_start(load_worker_t *w, const load_slot_t *slot);
void lp_poll(lp_t *p);                 /* session stats -> w->sec deltas */
void lp_leave(lp_t *p);                /* planned leave: leave, close, move to closed */
void lp_record_final(lp_t *p);         /* end of run: epoch and security code */
void lp_close(lp_t *p);
void lp_free(lp_t *p);
void lp_error(load_worker_t *w, uint32_t idx, const char *what, const char *detail);
/* tls gate (see load_runctx): take for slot idx, release if held by idx */

#endif
