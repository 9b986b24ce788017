/* The per-device counters (struct ioh_dev_stats) every probe family keeps: block requests,
 * bios and NFS data RPCs alike. BPF side only. */
#ifndef IOHEALTH_BPF_DEV_STATS_BPF_H
#define IOHEALTH_BPF_DEV_STATS_BPF_H

#include "iohealth.h"
#include "latency_slot.h"

/* Unfiltered mode (filter_dev == false) creates stats entries on first sight; the entry
 * starts from this all-zero value (too big for the 512-byte BPF stack). */
static const struct ioh_dev_stats ioh_zero_stats;

static __always_inline void ioh_diag_inc(void *diag_map, __u32 which)
{
	__u64 *v = bpf_map_lookup_elem(diag_map, &which);

	if (v)
		*v += 1;
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

/* One final completion; `failed` counts it under `err_kind` (enum ioh_err), otherwise its bytes.
 * Plain increments: the value is this CPU's copy, and a tracing program does not nest into
 * itself on one CPU. */
static __always_inline void ioh_record_completion(struct ioh_dev_stats *s, __u32 op,
						  __u64 latency_ns, bool have_latency,
						  __u64 now, bool failed, __u32 err_kind,
						  __u64 bytes)
{
	s->completed += 1;
	s->last_complete_ns = now;
	if (failed)
		s->errors[err_kind] += 1;
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

#endif /* IOHEALTH_BPF_DEV_STATS_BPF_H */
