/* sfu/pool — see pool.h. */
#include "sfu/pool.h"

#include <assert.h>
#include <stdlib.h>

#include "common/err.h"

struct sfu_pool {
  uint32_t count;
  uint32_t nfree;   /* entries in use in free_stack */
  uint32_t *free_stack; /* owned: indices of free buffers, top at nfree-1 */
  sfu_pkt_t *pkts;  /* owned: count descriptors */
  uint8_t *mem;     /* owned: count * SFU_PKT_CAP bytes */
};

int sfu_pool_new(uint32_t count, sfu_pool_t **out) {
  *out = NULL;
  if (count == 0 || count > (1u << 20)) return VEIL_EINVAL;
  sfu_pool_t *p = calloc(1, sizeof *p);
  if (!p) return VEIL_ENOMEM;
  p->pkts = calloc(count, sizeof *p->pkts);
  p->free_stack = calloc(count, sizeof *p->free_stack);
  /* Aligned so that protect/unprotect work on cache-line-aligned packets. */
  p->mem = aligned_alloc(64, (size_t)count * SFU_PKT_CAP);
  if (!p->pkts || !p->free_stack || !p->mem) goto fail;
  p->count = count;
  for (uint32_t i = 0; i < count; i++) {
    p->pkts[i].data = p->mem + (size_t)i * SFU_PKT_CAP;
    p->pkts[i].index = i;
    /* Lowest index on top: the first buffers handed out are the first in memory. */
    p->free_stack[i] = count - 1 - i;
  }
  p->nfree = count;
  *out = p;
  return 0;
fail:
  sfu_pool_free(p);
  return VEIL_ENOMEM;
}

void sfu_pool_free(sfu_pool_t *pool) {
  if (!pool) return;
  assert(pool->nfree == pool->count || pool->count == 0);
  free(pool->mem);
  free(pool->free_stack);
  free(pool->pkts);
  free(pool);
}

sfu_pkt_t *sfu_pool_get(sfu_pool_t *pool) {
  if (pool->nfree == 0) return NULL;
  sfu_pkt_t *pkt = &pool->pkts[pool->free_stack[--pool->nfree]];
  pkt->len = 0;
  return pkt;
}

void sfu_pool_put(sfu_pool_t *pool, sfu_pkt_t *pkt) {
  if (!pkt) return;
  assert(pkt->index < pool->count && &pool->pkts[pkt->index] == pkt);
  assert(pool->nfree < pool->count);
  pool->free_stack[pool->nfree++] = pkt->index;
}

uint32_t sfu_pool_available(const sfu_pool_t *pool) { return pool->nfree; }
uint32_t sfu_pool_capacity(const sfu_pool_t *pool) { return pool->count; }
