// SPDX-License-Identifier: GPL-2.0
/* Request-based disks (sd, nvme, virtio, loop): one completion program that reads the
 * kernel's own rq->start_time_ns, so the default mode needs no per-I/O map at all (the
 * per-request hash was the dominant cost in Rezolus PR #1148 and measured -21 % IOPS here). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "block.bpf.h"

/* Only devices userspace put in rq_slot_dev (the allow-list). false: every disk, up to
 * IOH_MAX_DEVS, each taking a free slot on first sight. */
const volatile bool filter_dev = true;
/* Per-request mode: block_rq_issue keeps every request in rq_inflight so userspace can find
 * the oldest one exactly; costs a shared hash update and delete per I/O. */
const volatile bool targ_per_request = false;
/* The age ring (struct ioh_age_ring): outstanding requests by when they started, at the cost
 * of one per-CPU increment at issue and one at completion. The default. */
const volatile bool targ_age_ring = true;
/* block_rq_issue(rq) since 5.11 (a54895fa, backported to 5.10.137); before: (q, rq). The
 * loader decides it from the BTF func proto, not from the kernel version. */
const volatile bool targ_single_arg = true;
/* block_rq_complete's error is blk_status_t since 6.0 and a negative errno before. */
const volatile bool targ_error_is_errno = false;

/* Slot -> device (IOH_MKDEV of the whole disk), placed by userspace: bpf/iohealth.h
 * ioh_dev_slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IOH_MAX_DEVS);
	__type(key, __u32);
	__type(value, __u32);
} rq_slot_dev SEC(".maps");

/* By slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOH_MAX_DEVS);
	__type(key, __u32);
	__type(value, struct ioh_dev_stats);
} rq_dev_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOH_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct ioh_inflight);
} rq_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOH_DIAG_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rq_diag SEC(".maps");

/* By slot, as rq_dev_stats. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOH_MAX_DEVS);
	__type(key, __u32);
	__type(value, struct ioh_age_ring);
} rq_age SEC(".maps");

/* Requests that started before this (CLOCK_MONOTONIC ns) stay out of the ring: their issue may
 * have come before the programs were attached. Userspace sets it once both are. */
__u64 age_since_ns = ~0ULL;

/* errno from blk_status_to_errno() back to a blk_status_t, for kernels before 6.0. */
static __always_inline __u8 rq_status(long error)
{
	if (!targ_error_is_errno)
		return (__u8)(error & 0xff);
	switch ((int)error) {
	case 0:
		return 0;
	case -110: /* ETIMEDOUT */
		return IOH_BLK_STS_TIMEOUT;
	case -5: /* EIO */
		return IOH_BLK_STS_IOERR;
	case -67: /* ENOLINK */
		return IOH_BLK_STS_TRANSPORT;
	case -121: /* EREMOTEIO */
		return IOH_BLK_STS_TARGET;
	case -61: /* ENODATA */
		return IOH_BLK_STS_MEDIUM;
	case -84: /* EILSEQ */
		return IOH_BLK_STS_PROTECTION;
	default:
		return 0xff; /* counted as "other" */
	}
}

/* rq->q->disk exists since 5.15 (d152c682f03c); requests without a disk are passthrough
 * (e.g. nvme admin) and are not ours. */
static __always_inline __u32 rq_dev(struct request *rq)
{
	struct gendisk *disk = rq->q->disk;

	if (!disk)
		return 0;
	return IOH_MKDEV(disk->major, disk->first_minor);
}

/* The slot of a tracked disk, or -1. Unfiltered, a disk seen first takes the first free slot
 * of its sequence: without an atomic (BPF v1), so two disks first seen at the same instant on
 * two CPUs may share that I/O; the test-only mode accepts it. */
static __always_inline int rq_slot(__u32 dev)
{
	for (__u32 p = 0; p < IOH_DEV_PROBES; p++) {
		__u32 k = ioh_dev_slot(dev, p);
		__u32 *d = bpf_map_lookup_elem(&rq_slot_dev, &k);

		if (!d)
			return -1;
		if (*d == dev)
			return k;
		if (*d == 0) {
			if (filter_dev)
				return -1;
			*d = dev;
			return k;
		}
	}
	if (!filter_dev)
		ioh_diag_inc(&rq_diag, IOH_DIAG_DEV_UPDATE_FAIL);
	return -1;
}

/* The ring slot of a request, or -1 when it is not in the ring: no start time (queue/iostats=0),
 * started before attach, or no data (a flush sequence's final completion and an empty
 * preflush carry no bytes; zone and driver commands neither: counted on neither side). */
static __always_inline int rq_age_index(struct request *rq, __u64 start, __u32 bytes)
{
	__u32 op = ioh_op(rq->cmd_flags);

	if (!start || start < age_since_ns || (!bytes && op != IOH_OP_FLUSH))
		return -1;
	return (op == IOH_OP_READ ? 0 : IOH_AGE_SLOTS) +
	       (int)((start >> IOH_AGE_SHIFT) & (IOH_AGE_SLOTS - 1));
}

/* A request of the ring that is done (completed, or requeued: it is issued again). */
static __always_inline void rq_age_done(struct request *rq, __u32 slot, __u32 bytes, __u64 now)
{
	__u64 start = rq->start_time_ns;
	struct ioh_age_ring *a;
	int i = rq_age_index(rq, start, bytes);
	__u32 op, u;

	if (i < 0)
		return;
	a = bpf_map_lookup_elem(&rq_age, &slot);
	if (!a)
		return;
	op = i >= IOH_AGE_SLOTS;
	if ((now >> IOH_AGE_SHIFT) - (start >> IOH_AGE_SHIFT) >= IOH_AGE_LATE) {
		barrier_var(op);
		if (op < IOH_AGE_OPS)
			a->finished_late[op] += 1;
		return;
	}
	u = i;
	barrier_var(u);
	if (u < IOH_AGE_OPS * IOH_AGE_SLOTS)
		(&a->finished[0][0])[u] += 1;
}

SEC("tp_btf/block_rq_issue")
int handle_rq_issue(__u64 *ctx)
{
	struct request *rq = targ_single_arg ? (void *)ctx[0] : (void *)ctx[1];
	struct ioh_inflight v = {};
	struct ioh_dev_stats *s;
	__u64 key = (__u64)rq;
	__u32 dev = rq_dev(rq);
	int slot;

	if (!dev)
		return 0;
	slot = rq_slot(dev);
	if (slot < 0)
		return 0;
	if (targ_age_ring) {
		struct ioh_age_ring *a;
		int i = rq_age_index(rq, rq->start_time_ns, rq->__data_len);

		if (i >= 0 && (a = bpf_map_lookup_elem(&rq_age, &slot))) {
			/* Unsigned, checked right before the access: Debian 12's 6.1 verifier
			 * refuses a signed index whose lower bound clang dropped ("unbounded min
			 * value"). */
			__u32 u = i;

			barrier_var(u);
			if (u < IOH_AGE_OPS * IOH_AGE_SLOTS)
				(&a->started[0][0])[u] += 1;
		}
	}
	if (!targ_per_request)
		return 0;
	s = bpf_map_lookup_elem(&rq_dev_stats, &slot);
	if (!s)
		return 0;
	s->issued += 1;
	v.start_ns = rq->start_time_ns;
	if (!v.start_ns)
		v.start_ns = bpf_ktime_get_ns();
	v.dev = dev;
	v.op = ioh_op(rq->cmd_flags);
	/* A requeued request is issued again: overwriting its entry is right. */
	if (bpf_map_update_elem(&rq_inflight, &key, &v, BPF_ANY))
		ioh_diag_inc(&rq_diag, IOH_DIAG_INFLIGHT_UPDATE_FAIL);
	return 0;
}

/* A request handed back to the queue is issued again: in the ring it is done until then.
 * Only one that was started (issued) counts; block_rq_requeue has the same argument list as
 * block_rq_issue. */
SEC("tp_btf/block_rq_requeue")
int handle_rq_requeue(__u64 *ctx)
{
	struct request *rq = targ_single_arg ? (void *)ctx[0] : (void *)ctx[1];
	__u32 dev = rq_dev(rq);
	int slot;

	if (!dev || rq->state == MQ_RQ_IDLE)
		return 0;
	slot = rq_slot(dev);
	if (slot >= 0)
		rq_age_done(rq, slot, rq->__data_len, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(handle_rq_complete, struct request *rq, long error, unsigned int nr_bytes)
{
	struct ioh_dev_stats *s;
	__u64 start, now;
	__u8 status;
	__u32 dev = rq_dev(rq);
	int slot;

	if (!dev)
		return 0;
	slot = rq_slot(dev);
	if (slot < 0)
		return 0;
	s = bpf_map_lookup_elem(&rq_dev_stats, &slot);
	if (!s)
		return 0;
	/* blk_update_request() may complete a request in parts; __data_len is what is still
	 * outstanding, so only the last part is the completion. */
	status = rq_status(error);
	if (nr_bytes < rq->__data_len) {
		if (!status)
			s->bytes += nr_bytes;
		return 0;
	}
	if (targ_per_request) {
		__u64 key = (__u64)rq;

		bpf_map_delete_elem(&rq_inflight, &key);
	}
	now = bpf_ktime_get_ns();
	/* start_time_ns is 0 when the queue does no I/O accounting (queue/iostats=0). */
	start = rq->start_time_ns;
	if (!start)
		ioh_diag_inc(&rq_diag, IOH_DIAG_NO_START_TIME);
	ioh_record_completion(s, ioh_op(rq->cmd_flags), now - start, start != 0 && now > start,
			      now, status != 0, ioh_err_kind(status), nr_bytes);
	if (targ_age_ring)
		rq_age_done(rq, slot, nr_bytes, now);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
