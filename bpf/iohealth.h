/* The ABI between the block probes and userspace: fixed-width types only, no pointers.
 * Include after vmlinux.h (BPF) or <linux/types.h> (userspace). */
#ifndef IOHEALTH_BPF_IOHEALTH_H
#define IOHEALTH_BPF_IOHEALTH_H

/* log2 latency slots in microseconds: slot 0 = [0, 2) us, slot i = [2^i, 2^(i+1)) us, the last
 * slot open-ended. The same layout as userspace/core/histogram.h LatencyHistogram: 2^31 us is
 * about 36 min, so a request that hung for minutes still lands in its own slot. */
#define IOH_HIST_SLOTS 32

/* Devices tracked per family (the allow-list: the keys of the bio stats map, the devices in
 * rq_slot_dev). */
#define IOH_MAX_DEVS 256

/* Request-based disks live in slots of arrays (rq_slot_dev, and by the same index their
 * counters and age ring): an array lookup is a bounds check and an offset, where a hash lookup
 * cost 50-60 ns, twice per I/O (measured with tests/bench/probe_overhead.sh). A device's slot
 * is the first free one of its probe sequence: IOH_DEV_PROBES slots from ioh_dev_slot(dev)
 * on. In rq_slot_dev, 0 is a free slot that ends every sequence through it, IOH_DEV_GONE a
 * slot freed since, which does not. */
#define IOH_DEV_SLOT_BITS 8 /* 1 << IOH_DEV_SLOT_BITS == IOH_MAX_DEVS */
#define IOH_DEV_PROBES 8
#define IOH_DEV_GONE 0xffffffffu

/* Fibonacci hashing: device numbers differ in their low bits (minors) and in their high ones
 * (majors); the multiply spreads both over the top bits. */
static inline __u32 ioh_dev_slot(__u32 dev, __u32 probe)
{
	return (((__u32)(dev * 2654435761u) >> (32 - IOH_DEV_SLOT_BITS)) + probe) &
	       (IOH_MAX_DEVS - 1);
}

/* In-flight tables: preallocated HASH, never LRU (LRU would evict the oldest entries, which
 * are the stuck ones). About 2x the sum of queue depths of the tracked devices. */
#define IOH_MAX_INFLIGHT 8192

/* Kernel dev_t encoding (include/linux/kdev_t.h): 12-bit major, 20-bit minor. */
#define IOH_MINORBITS 20
#define IOH_MKDEV(ma, mi) (((__u32)(ma) << IOH_MINORBITS) | (__u32)(mi))

enum ioh_op {
	IOH_OP_READ = 0,
	IOH_OP_WRITE = 1, /* writes and the other data-modifying ops (discard, write-zeroes) */
	IOH_OP_FLUSH = 2,
	IOH_OP_MAX = 3,
};

enum ioh_err {
	IOH_ERR_IO = 0,      /* BLK_STS_IOERR, MEDIUM, TRANSPORT, TARGET, PROTECTION */
	IOH_ERR_TIMEOUT = 1, /* BLK_STS_TIMEOUT: the driver gave up on the request */
	IOH_ERR_OTHER = 2,
	IOH_ERR_MAX = 3,
};

/* Per device, per CPU. Every field only grows: userspace sums the CPUs and takes deltas, it
 * never zeroes or deletes (read-then-delete loses the increments in between). */
struct ioh_dev_stats {
	__u64 issued;           /* bio queue / rq issue (per-request mode); rq default: 0 */
	__u64 completed;        /* final completions, errors included */
	__u64 bytes;            /* bytes of successful completions */
	__u64 errors[IOH_ERR_MAX];
	__u64 last_complete_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of this CPU's last completion */
	__u64 hist[IOH_OP_MAX][IOH_HIST_SLOTS];
};

/* One in-flight request (key: struct request *) or bio (key: struct bio *). */
struct ioh_inflight {
	__u64 start_ns; /* CLOCK_MONOTONIC */
	__u32 dev;      /* IOH_MKDEV of the whole disk */
	__u32 bytes;    /* bios: size at queue time (bi_size is consumed by completion) */
	__u32 op;       /* enum ioh_op */
	__u32 pad;
};

/* Request-based disks, by default: what is still outstanding, by when it started, so that a
 * request that never completes is found without a per-request map (which costs a shared hash
 * update and delete per I/O). A slot holds 2^IOH_AGE_SHIFT ns (1.07 s) of rq->start_time_ns,
 * so an age is known to within 1.07 s; IOH_AGE_SLOTS slots make a ring of 34 s. started -
 * finished of a slot is what is outstanding from that span. Once a slot is IOH_AGE_LATE old,
 * completions of its requests count in finished_late instead, and userspace carries what the
 * slot still held: it has the rest of the ring (17 s, more than the longest tick) to read it
 * before the slot is reused. Per CPU and only growing, like struct ioh_dev_stats. */
#define IOH_AGE_SHIFT 30
#define IOH_AGE_SLOTS 32
#define IOH_AGE_LATE 16
#define IOH_AGE_OPS 2 /* 0: reads, 1: writes and the other ops (flush, discard) */

struct ioh_age_ring {
	__u64 started[IOH_AGE_OPS][IOH_AGE_SLOTS];
	__u64 finished[IOH_AGE_OPS][IOH_AGE_SLOTS];
	__u64 finished_late[IOH_AGE_OPS];
};

/* Diagnostics, per CPU: what the probes could not account for. */
enum ioh_diag {
	IOH_DIAG_INFLIGHT_UPDATE_FAIL = 0, /* in-flight table full: that I/O has no age */
	IOH_DIAG_DEV_UPDATE_FAIL = 1,      /* unfiltered mode: stats table full */
	IOH_DIAG_NO_START_TIME = 2,        /* rq completed with start_time_ns == 0: no latency */
	IOH_DIAG_MAX = 3,
};

/* NFS (bpf/nfs.bpf.c). A mount's data RPCs use struct ioh_dev_stats keyed by the superblock's
 * s_dev (ops: READ, WRITE, and COMMIT as FLUSH) and struct ioh_inflight keyed by the
 * nfs_pgio_header / nfs_commit_data pointer. What happens on a transport to a server (every
 * RPC in flight, replies, timeouts, retransmits) is keyed by the struct rpc_xprt pointer;
 * userspace joins a mount to the transports whose server address is the mount's addr=. */
struct ioh_xprt_stats {
	__u64 replies;        /* replies received, matched or not (xprt_lookup_rqst) */
	__u64 last_reply_ns;  /* CLOCK_MONOTONIC of this CPU's last reply */
	__u64 major_timeouts; /* rpc_timeout_status: "server ... not responding" */
	__u64 minor_timeouts; /* xprt_timer: a request's retransmit timer fired */
	__u64 retransmits;    /* xprt_retransmit */
};

/* The server end of a transport: struct sockaddr_in / sockaddr_in6 as the kernel holds it. */
struct ioh_xprt_addr {
	__u8 sockaddr[28];
};

/* One NFS RPC task between rpc_task_begin and rpc_task_end (key: struct rpc_task *). */
struct ioh_rpc_inflight {
	__u64 start_ns; /* CLOCK_MONOTONIC */
	__u64 xprt;     /* the key of its transport in the xprt maps */
};

#endif /* IOHEALTH_BPF_IOHEALTH_H */
