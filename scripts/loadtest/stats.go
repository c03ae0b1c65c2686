package main

import (
	"math"
	"math/bits"
	"sync"
	"time"
)

// A histogram bucket above subBuckets µs is 1/64 of its power of two wide,
// so a reported percentile is at most 1.6% above the recorded value.
const (
	subBucketBits = 7
	subBuckets    = 1 << subBucketBits
)

// histogram is a log-linear histogram of durations in microseconds. Values
// below subBuckets µs are exact; above, each power of two is split into
// subBuckets equal buckets. It is not safe for concurrent use.
type histogram struct {
	counts []uint64
	n      uint64
	max    int64
	sum    float64
}

func bucketOf(us int64) int {
	if us < 0 {
		us = 0
	}
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(uint64(us)) - subBucketBits // >= 1
	sub := int(us>>exp) - subBuckets/2            // 0..subBuckets/2-1
	return subBuckets + (exp-1)*subBuckets/2 + sub
}

// bucketHigh is the highest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	exp := (i-subBuckets)/(subBuckets/2) + 1
	sub := (i-subBuckets)%(subBuckets/2) + subBuckets/2
	return int64(sub+1)<<exp - 1
}

func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	b := bucketOf(us)
	if b >= len(h.counts) {
		n := make([]uint64, b+1+subBuckets)
		copy(n, h.counts)
		h.counts = n
	}
	h.counts[b]++
	h.n++
	h.sum += float64(us)
	if us > h.max {
		h.max = us
	}
}

func (h *histogram) merge(o *histogram) {
	if len(o.counts) > len(h.counts) {
		n := make([]uint64, len(o.counts))
		copy(n, h.counts)
		h.counts = n
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	if o.max > h.max {
		h.max = o.max
	}
}

// quantile returns the value at quantile q (0..1) in microseconds, as the
// upper bound of its bucket, never above the exact maximum.
func (h *histogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketHigh(i), h.max)
		}
	}
	return h.max
}

// shardedHistogram spreads recording over a few locked shards so that
// thousands of reader goroutines do not contend on one lock.
type shardedHistogram struct {
	shards [32]struct {
		mu sync.Mutex
		h  histogram
		_  [40]byte // keep shards on separate cache lines
	}
}

func (s *shardedHistogram) record(shard int, d time.Duration) {
	sh := &s.shards[shard%len(s.shards)]
	sh.mu.Lock()
	sh.h.record(d)
	sh.mu.Unlock()
}

func (s *shardedHistogram) snapshot() histogram {
	var out histogram
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		out.merge(&sh.h)
		sh.mu.Unlock()
	}
	return out
}

// bitset records which sequence numbers a receiver has seen.
type bitset []uint64

// set marks i and reports whether it was already marked.
func (b *bitset) set(i uint64) bool {
	w := int(i / 64)
	if w >= len(*b) {
		n := make(bitset, max(w+1, 2*len(*b)))
		copy(n, *b)
		*b = n
	}
	mask := uint64(1) << (i % 64)
	was := (*b)[w]&mask != 0
	(*b)[w] |= mask
	return was
}
