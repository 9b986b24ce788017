/* Helpers shared by the block probe families (rq and bio). BPF side only. */
#ifndef IOHEALTH_BPF_BLOCK_COMMON_BPF_H
#define IOHEALTH_BPF_BLOCK_COMMON_BPF_H

#include "iohealth.h"
#include "latency_slot.h"

/* Unfiltered mode (filter_dev == false) creates stats entries on first sight; the entry
 * starts from this all-zero value (too big for the 512-byte BPF stack). */
static const struct ioh_dev_stats ioh_zero_stats;

/* blk_status_t values that have been stable since 4.13 (include/linux/blk_types.h). The
 * higher codes moved around (zone resources, OFFLINE) and are counted as "other". */
#define IOH_BLK_STS_TRANSPORT 4
#define IOH_BLK_STS_TARGET 5
#define IOH_BLK_STS_MEDIUM 7
#define IOH_BLK_STS_PROTECTION 8
#define IOH_BLK_STS_TIMEOUT 2
#define IOH_BLK_STS_IOERR 10

#define IOH_REQ_OP_MASK 0xff /* (1 << REQ_OP_BITS) - 1, REQ_OP_BITS = 8 since 4.10 */
#define IOH_REQ_OP_READ 0
#define IOH_REQ_OP_FLUSH 2

static __always_inline void ioh_diag_inc(void *diag_map, __u32 which)
{
	__u64 *v = bpf_map_lookup_elem(diag_map, &which);

	if (v)
		*v += 1;
}

static __always_inline __u32 ioh_op(__u32 cmd_flags)
{
	__u32 op = cmd_flags & IOH_REQ_OP_MASK;

	if (op == IOH_REQ_OP_READ)
		return IOH_OP_READ;
	if (op == IOH_REQ_OP_FLUSH)
		return IOH_OP_FLUSH;
	return IOH_OP_WRITE;
}

static __always_inline __u32 ioh_err_kind(__u8 status)
{
	switch (status) {
	case IOH_BLK_STS_TIMEOUT:
		return IOH_ERR_TIMEOUT;
	case IOH_BLK_STS_IOERR:
	case IOH_BLK_STS_MEDIUM:
	case IOH_BLK_STS_TRANSPORT:
	case IOH_BLK_STS_TARGET:
	case IOH_BLK_STS_PROTECTION:
		return IOH_ERR_IO;
	default:
		return IOH_ERR_OTHER;
	}
}

/* The stats entry of a device, or NULL when it is not tracked. Filtered mode: only devices
 * userspace put in the map. Unfiltered: created on first sight, failures counted. */
static __always_inline struct ioh_dev_stats *ioh_dev_stats(void *stats_map, void *diag_map,
							   __u32 dev, bool filter)
{
	struct ioh_dev_stats *s = bpf_map_lookup_elem(stats_map, &dev);

	if (s || filter)
		return s;
	if (bpf_map_update_elem(stats_map, &dev, &ioh_zero_stats, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(stats_map, &dev)) {
		ioh_diag_inc(diag_map, IOH_DIAG_DEV_UPDATE_FAIL);
		return NULL;
	}
	return bpf_map_lookup_elem(stats_map, &dev);
}

/* One final completion. Plain increments: the value is this CPU's copy, and a tracing program
 * does not nest into itself on one CPU. */
static __always_inline void ioh_record_completion(struct ioh_dev_stats *s, __u32 op,
						  __u64 latency_ns, bool have_latency,
						  __u64 now, __u8 status, __u64 bytes)
{
	s->completed += 1;
	s->last_complete_ns = now;
	if (status)
		s->errors[ioh_err_kind(status)] += 1;
	else
		s->bytes += bytes;
	if (have_latency && op < IOH_OP_MAX) {
		/* One check of the flat index right before the access: clang spills op and reloads
		 * it after the check above, and older verifiers (Debian 12's 6.1) do not carry the
		 * bound to the reloaded copy ("R7 unbounded memory access"; the host's 6.18 does).
		 * barrier_var keeps clang from proving this check redundant and dropping it. */
		__u32 i = op * IOH_HIST_SLOTS + ioh_latency_slot(latency_ns);

		barrier_var(i);
		if (i < IOH_OP_MAX * IOH_HIST_SLOTS)
			(&s->hist[0][0])[i] += 1;
	}
}

#endif /* IOHEALTH_BPF_BLOCK_COMMON_BPF_H */
