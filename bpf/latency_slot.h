/* The histogram slot of a latency, shared by the BPF programs and userspace tests (plain C,
 * no helpers). Include after vmlinux.h (BPF) or <linux/types.h> (userspace). */
#ifndef IOHEALTH_BPF_LATENCY_SLOT_H
#define IOHEALTH_BPF_LATENCY_SLOT_H

#include "iohealth.h"

/* floor(log2(v)) for v > 0, branch-free. */
static inline __u32 ioh_log2(__u64 v)
{
	__u32 r, shift;

	r = (v > 0xffffffffULL) << 5;
	v >>= r;
	shift = (v > 0xffff) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (__u32)(v >> 1);
	return r;
}

/* Slot of a latency in nanoseconds, in the microsecond layout of iohealth.h:
 * floor(log2(floor(ns / 1000))) clamped to [0, IOH_HIST_SLOTS - 1], without a 64-bit divide on
 * the completion path. That is the largest i with 1000 * 2^i <= ns; with l = floor(log2(ns))
 * it is l - 9 when 1000 << (l - 9) <= ns, else l - 10 (1000 / 512 < 2 and 1000 / 1024 < 1). */
static inline __u32 ioh_latency_slot(__u64 ns)
{
	__u32 l, slot;

	if (ns < 2000)
		return 0;
	l = ioh_log2(ns); /* >= 10 */
	slot = (1000ULL << (l - 9)) <= ns ? l - 9 : l - 10;
	return slot < IOH_HIST_SLOTS ? slot : IOH_HIST_SLOTS - 1;
}

#endif /* IOHEALTH_BPF_LATENCY_SLOT_H */
