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

/* To the young end; a chunk a replay keeps stays off the LRU. */
void cache_lru_push_locked(struct cache *c, struct slot *s)
{
	cache_lru_unlink_locked(s);
	if (s->rp)
		return;
	s->prev = c->lru.prev;
	s->next = &c->lru;
	c->lru.prev->next = s;
	c->lru.prev = s;
	s->on_lru = 1;
}

/* Takes s (unpinned, on the LRU) from the chunk it holds. */
static void slot_evict(struct cache *c, struct slot *s)
{
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
}

/* The oldest unpinned slot on the LRU that how may evict, or NULL. */
static struct slot *lru_victim(struct cache *c, int how)
{
	unsigned looked = 0;
	struct slot *s;

	for (s = c->lru.next; s != &c->lru; s = s->next) {
		if (how != CLAIM_READ && ++looked > 8)
			return NULL;
		if (!s->refs && !(how != CLAIM_READ && s->ra))
			return s;
	}
	return NULL;
}

void cache_lru_push_old_locked(struct cache *c, struct slot *s)
{
	cache_lru_unlink_locked(s);
	s->next = c->lru.next;
	s->prev = &c->lru;
	c->lru.next->prev = s;
	c->lru.next = s;
	s->on_lru = 1;
}

/*
 * A slot for a new chunk: a free one while the slots in use, but those a
 * replay keeps, are fewer than the budget's (for a replay: while it keeps
 * fewer chunks than it may), else
 * the oldest unpinned one on the LRU. Readahead and a replay look at the
 * 8 oldest only and never evict prefetched chunks; a client's read takes
 * a free slot past the budget rather than go without. free_only takes
 * free slots only. NULL when none.
 */
static struct slot *slot_take(struct cache *c, int how, int free_only)
{
	/* the budget holds what the replay does not keep */
	int grow = how == CLAIM_REPLAY ? c->rp.kept < c->rp.cap
				       : c->in_use < c->nslots + c->rp.kept;
	struct slot *s = NULL;

	if (c->free_list && grow)
		s = c->free_list;
	else if (!free_only && (s = lru_victim(c, how)) != NULL)
		slot_evict(c, s);
	else if (!free_only && how == CLAIM_READ)
		s = c->free_list;
	if (!s)
		return NULL;
	if (s == c->free_list) {
		c->free_list = s->next;
		c->in_use++;
	}
	if (!s->data)
		s->data = malloc(c->chunk);
	if (!s->data) {
		s->next = c->free_list;
		c->free_list = s;
		c->in_use--;
		return NULL;
	}
	return s;
}

void cache_shrink_locked(struct cache *c, size_t look)
{
	struct slot *s = c->lru.next, *n;

	while (c->in_use > c->nslots + c->rp.kept && s != &c->lru && look--) {
		n = s->next;
		if (!s->refs) {
			slot_evict(c, s);
			free(s->data);
			s->data = NULL;
			s->next = c->free_list;
			c->free_list = s;
			c->in_use--;
		}
		s = n;
	}
}

/* Claims chunk idx (not in the cache) for a fetch. NULL: no room. */
struct slot *cache_claim_locked(struct cache *c, uint64_t idx, int how,
				int free_only)
{
	struct slot *s = slot_take(c, how, free_only);
	struct slot **p;

	if (!s)
		return NULL;
	s->idx = idx;
	s->state = S_FETCHING;
	s->ra = how == CLAIM_AHEAD;
	s->rp = s->rf = s->rtail = 0;
	s->refs = 0;
	s->err = 0;
	p = hash_ref(c, idx);
	s->hnext = *p;
	*p = s;
	return s;
}
