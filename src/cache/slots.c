/* SPDX-License-Identifier: MIT */
/*
 * slots.c - the cache's slots (internal.h): the hash of chunk indexes,
 * the LRU list of ready and failed chunks, the free list, and claiming a
 * slot for a chunk, evicting the oldest unpinned one when none is free.
 * Everything here runs under c->lock.
 */
#include <stdlib.h>
#include "src/cache/internal.h"

static struct slot **hash_ref(struct cache *c, uint64_t idx)
{
	struct slot **p =
		&c->hash[(idx * 0x9E3779B97F4A7C15ULL >> 32) & c->hmask];

	while (*p && (*p)->idx != idx)
		p = &(*p)->hnext;
	return p;
}

struct slot *cache_lookup_locked(struct cache *c, uint64_t idx)
{
	return *hash_ref(c, idx);
}

void cache_lru_unlink_locked(struct slot *s)
{
	if (!s->on_lru)
		return;
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->on_lru = 0;
}

/* To the young end. */
void cache_lru_push_locked(struct cache *c, struct slot *s)
{
	cache_lru_unlink_locked(s);
	s->prev = c->lru.prev;
	s->next = &c->lru;
	c->lru.prev->next = s;
	c->lru.prev = s;
	s->on_lru = 1;
}

/*
 * A slot for a new chunk: a free one, else the oldest unpinned one on the
 * LRU. Readahead (ra) looks at the 8 oldest only and never evicts other
 * prefetched chunks; free_only takes free slots only. NULL when none.
 */
static struct slot *slot_take(struct cache *c, int ra, int free_only)
{
	struct slot *s = c->free_list;
	unsigned looked = 0;

	if (s) {
		c->free_list = s->next;
	} else if (!free_only) {
		for (s = c->lru.next; s != &c->lru; s = s->next) {
			if (ra && ++looked > 8)
				return NULL;
			if (!s->refs && !(ra && s->ra))
				break;
		}
		if (s == &c->lru)
			return NULL;
		cache_lru_unlink_locked(s);
		*hash_ref(c, s->idx) = s->hnext;
		if (s->state == S_READY)
			c->cached -= chunk_len(c, s->idx);
		if (s->ra) {
			/* fetched ahead for nothing: read ahead less */
			c->ra_wasted++;
			c->ra_max = c->ra_max / 2 > 2 * c->chunk ? c->ra_max / 2
								 : 2 * c->chunk;
		}
	} else {
		return NULL;
	}
	if (!s->data)
		s->data = malloc(c->chunk);
	if (!s->data) {
		s->next = c->free_list;
		c->free_list = s;
		return NULL;
	}
	return s;
}

/* Claims chunk idx (not in the cache) for a fetch. NULL: no room. */
struct slot *cache_claim_locked(struct cache *c, uint64_t idx, int ra,
				int free_only)
{
	struct slot *s = slot_take(c, ra, free_only);
	struct slot **p;

	if (!s)
		return NULL;
	s->idx = idx;
	s->state = S_FETCHING;
	s->ra = (uint8_t)ra;
	s->refs = 0;
	s->err = 0;
	p = hash_ref(c, idx);
	s->hnext = *p;
	*p = s;
	return s;
}
