/*
 * sfu/pool — fixed-size packet buffers with a free list.
 *
 * The media path never allocates (STYLE 9): every datagram received, and every per-
 * subscriber copy that is protected and queued for sendmmsg, lives in a buffer taken from
 * a pool created once per worker loop. All buffers are carved from one allocation; the free
 * list is an index stack, so get/put are O(1) with no branches on sizes.
 *
 * A pool belongs to one loop and is not thread-safe (one room lives on exactly one loop,
 * DESIGN.md). Rejected alternative: malloc per packet (allocator contention and
 * fragmentation under fan-out; also no natural cap on memory held by queues).
 */
#ifndef VEIL_SFU_POOL_H
#define VEIL_SFU_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Room for a 1500-byte MTU datagram plus the SRTP/SRTCP trailer (tag, MKI, SRTCP index)
 * that srtp_protect appends in place, rounded up to a cache-friendly size. */
#define SFU_PKT_CAP 2048

typedef struct sfu_pool sfu_pool_t;

/* A buffer from the pool. `data` points at SFU_PKT_CAP bytes owned by the pool; the holder
 * owns the sfu_pkt_t between sfu_pool_get and sfu_pool_put. */
typedef struct sfu_pkt {
  uint8_t *data;  /* owned by the pool; SFU_PKT_CAP bytes */
  uint32_t len;   /* bytes in use */
  uint32_t index; /* position in the pool (private) */
} sfu_pkt_t;

/* Creates a pool of `count` buffers (count >= 1, <= 1<<20). */
int sfu_pool_new(uint32_t count, sfu_pool_t **out);
/* Frees the pool. Every buffer must have been returned (asserted in debug builds). */
void sfu_pool_free(sfu_pool_t *pool);
/* A free buffer (len = 0), or NULL when the pool is exhausted (the caller drops). */
sfu_pkt_t *sfu_pool_get(sfu_pool_t *pool);
/* Returns a buffer taken from this pool. */
void sfu_pool_put(sfu_pool_t *pool, sfu_pkt_t *pkt);
/* Buffers currently free / total. */
uint32_t sfu_pool_available(const sfu_pool_t *pool);
uint32_t sfu_pool_capacity(const sfu_pool_t *pool);

#endif
