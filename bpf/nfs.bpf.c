// SPDX-License-Identifier: GPL-2.0
/* NFS client mounts. The nfs.ko data tracepoints measure each READ/WRITE/COMMIT RPC of a
 * mount from nfs_initiate_* to nfs_*_done (restarts included: the header is the key), keyed by
 * the superblock's s_dev, so they need no learning. The sunrpc.ko ones say what each transport
 * to an NFS server does: every NFS RPC in flight (metadata too: a heartbeat hung in OPEN
 * starts no data RPC), replies, major/minor timeouts, retransmits.
 *
 * Both modules' types come from their module BTF: this file declares the few fields it reads
 * with a ___ioh suffix (libbpf drops it when it matches CO-RE candidates), so it builds against
 * a vmlinux.h from a kernel without NFS. The loader only opens it when /sys/kernel/btf/nfs and
 * /sys/kernel/btf/sunrpc exist. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "dev_stats.bpf.h"

#define IOH_ETIMEDOUT 110
#define IOH_EIO 5
#define IOH_NFS_PROGRAM 100003
#define IOH_MAX_XPRTS 256
#define IOH_MAX_RPC_INFLIGHT 4096

struct rpc_xprt___ioh {
	struct __kernel_sockaddr_storage addr;
} __attribute__((preserve_access_index));

struct rpc_clnt___ioh {
	__u32 cl_prog;
} __attribute__((preserve_access_index));

struct rpc_task___ioh {
	int tk_status;
	struct rpc_clnt___ioh *tk_client;
	struct rpc_xprt___ioh *tk_xprt;
} __attribute__((preserve_access_index));

struct rpc_rqst___ioh {
	struct rpc_xprt___ioh *rq_xprt;
} __attribute__((preserve_access_index));

struct nfs_pgio_args___ioh {
	__u32 count;
} __attribute__((preserve_access_index));

struct nfs_pgio_header___ioh {
	struct inode *inode;
	struct nfs_pgio_args___ioh args;
} __attribute__((preserve_access_index));

struct nfs_commit_data___ioh {
	struct inode *inode;
} __attribute__((preserve_access_index));

/* Per mount (s_dev), per CPU; created on first sight: mounts come and go. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IOH_MAX_DEVS);
	__type(key, __u32);
	__type(value, struct ioh_dev_stats);
} nfs_dev_stats SEC(".maps");

/* Data RPCs between initiate and done. A hard mount whose server is gone keeps its entries
 * until the server is back: their age is the evidence. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOH_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct ioh_inflight);
} nfs_inflight SEC(".maps");

/* Per transport to an NFS server, per CPU; made when an NFS RPC first uses it. Events of
 * other RPC users (rpcbind, lockd) find no entry and are ignored. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IOH_MAX_XPRTS);
	__type(key, __u64);
	__type(value, struct ioh_xprt_stats);
} nfs_xprt_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOH_MAX_XPRTS);
	__type(key, __u64);
	__type(value, struct ioh_xprt_addr);
} nfs_xprt_addr SEC(".maps");

/* Every NFS RPC task in flight (metadata and lease renewals included). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOH_MAX_RPC_INFLIGHT);
	__type(key, __u64);
	__type(value, struct ioh_rpc_inflight);
} nfs_rpc_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOH_DIAG_MAX);
	__type(key, __u32);
	__type(value, __u64);
} nfs_diag SEC(".maps");

static const struct ioh_xprt_stats ioh_zero_xprt;

/* --- per mount: data RPCs --- */

static __always_inline void initiate(__u64 key, struct inode *inode, __u32 op, __u32 bytes)
{
	struct ioh_inflight v = {};
	struct ioh_dev_stats *s;
	__u32 dev = BPF_CORE_READ(inode, i_sb, s_dev);

	s = ioh_dev_stats(&nfs_dev_stats, &nfs_diag, dev, false);
	if (!s)
		return;
	s->issued += 1;
	v.start_ns = bpf_ktime_get_ns();
	v.dev = dev;
	v.bytes = bytes;
	v.op = op;
	if (bpf_map_update_elem(&nfs_inflight, &key, &v, BPF_ANY))
		ioh_diag_inc(&nfs_diag, IOH_DIAG_INFLIGHT_UPDATE_FAIL);
}

static __always_inline __u32 nfs_err_kind(int status)
{
	if (status == -IOH_ETIMEDOUT) /* a soft mount gave up at its major timeout */
		return IOH_ERR_TIMEOUT;
	if (status == -IOH_EIO)
		return IOH_ERR_IO;
	return IOH_ERR_OTHER;
}

static __always_inline void done(__u64 key, struct rpc_task___ioh *task, struct inode *inode,
				 __u32 op)
{
	struct ioh_inflight *e;
	struct ioh_dev_stats *s;
	__u64 now = bpf_ktime_get_ns(), start = 0;
	__u32 dev = BPF_CORE_READ(inode, i_sb, s_dev), bytes = 0;
	int status = BPF_CORE_READ(task, tk_status);

	e = bpf_map_lookup_elem(&nfs_inflight, &key);
	if (e) {
		start = e->start_ns;
		bytes = e->bytes;
		bpf_map_delete_elem(&nfs_inflight, &key);
	}
	s = ioh_dev_stats(&nfs_dev_stats, &nfs_diag, dev, false);
	if (!s)
		return;
	/* start is 0 for an RPC initiated before the probes were attached: no latency. */
	ioh_record_completion(s, op, now - start, start && now > start, now, status < 0,
			      nfs_err_kind(status), bytes);
}

SEC("tp_btf/nfs_initiate_read")
int BPF_PROG(handle_initiate_read, struct nfs_pgio_header___ioh *hdr)
{
	initiate((__u64)hdr, BPF_CORE_READ(hdr, inode), IOH_OP_READ, BPF_CORE_READ(hdr, args.count));
	return 0;
}

SEC("tp_btf/nfs_initiate_write")
int BPF_PROG(handle_initiate_write, struct nfs_pgio_header___ioh *hdr)
{
	initiate((__u64)hdr, BPF_CORE_READ(hdr, inode), IOH_OP_WRITE,
		 BPF_CORE_READ(hdr, args.count));
	return 0;
}

SEC("tp_btf/nfs_initiate_commit")
int BPF_PROG(handle_initiate_commit, struct nfs_commit_data___ioh *data)
{
	initiate((__u64)data, BPF_CORE_READ(data, inode), IOH_OP_FLUSH, 0);
	return 0;
}

SEC("tp_btf/nfs_readpage_done")
int BPF_PROG(handle_read_done, struct rpc_task___ioh *task, struct nfs_pgio_header___ioh *hdr)
{
	done((__u64)hdr, task, BPF_CORE_READ(hdr, inode), IOH_OP_READ);
	return 0;
}

SEC("tp_btf/nfs_writeback_done")
int BPF_PROG(handle_write_done, struct rpc_task___ioh *task, struct nfs_pgio_header___ioh *hdr)
{
	done((__u64)hdr, task, BPF_CORE_READ(hdr, inode), IOH_OP_WRITE);
	return 0;
}

SEC("tp_btf/nfs_commit_done")
int BPF_PROG(handle_commit_done, struct rpc_task___ioh *task, struct nfs_commit_data___ioh *data)
{
	done((__u64)data, task, BPF_CORE_READ(data, inode), IOH_OP_FLUSH);
	return 0;
}

/* --- per transport: every NFS RPC --- */

static __always_inline struct ioh_xprt_stats *xprt_stats(struct rpc_xprt___ioh *xprt)
{
	__u64 key = (__u64)xprt;

	return bpf_map_lookup_elem(&nfs_xprt_stats, &key);
}

SEC("tp_btf/rpc_task_begin")
int BPF_PROG(handle_task_begin, struct rpc_task___ioh *task, const void *action)
{
	struct rpc_xprt___ioh *xprt = BPF_CORE_READ(task, tk_xprt);
	struct ioh_rpc_inflight v = {};
	struct ioh_xprt_addr addr = {};
	__u64 key = (__u64)task, xkey = (__u64)xprt;

	if (!xprt || BPF_CORE_READ(task, tk_client, cl_prog) != IOH_NFS_PROGRAM)
		return 0;
	if (!bpf_map_lookup_elem(&nfs_xprt_stats, &xkey)) {
		bpf_core_read(&addr.sockaddr, sizeof(addr.sockaddr), &xprt->addr);
		bpf_map_update_elem(&nfs_xprt_addr, &xkey, &addr, BPF_ANY);
		bpf_map_update_elem(&nfs_xprt_stats, &xkey, &ioh_zero_xprt, BPF_NOEXIST);
	}
	v.start_ns = bpf_ktime_get_ns();
	v.xprt = xkey;
	if (bpf_map_update_elem(&nfs_rpc_inflight, &key, &v, BPF_ANY))
		ioh_diag_inc(&nfs_diag, IOH_DIAG_INFLIGHT_UPDATE_FAIL);
	return 0;
}

/* Also fires before a restarted call runs again; that rest of the call is then not seen in
 * flight (restarts follow a reply, so the server was answering). */
SEC("tp_btf/rpc_task_end")
int BPF_PROG(handle_task_end, struct rpc_task___ioh *task, const void *action)
{
	__u64 key = (__u64)task;

	bpf_map_delete_elem(&nfs_rpc_inflight, &key);
	return 0;
}

/* Every reply the transport reads, matched to a request or not (a late reply to a request
 * already retransmitted still proves the server answers). */
SEC("tp_btf/xprt_lookup_rqst")
int BPF_PROG(handle_reply, struct rpc_xprt___ioh *xprt, __be32 xid, int status)
{
	struct ioh_xprt_stats *s = xprt_stats(xprt);

	if (s) {
		s->replies += 1;
		s->last_reply_ns = bpf_ktime_get_ns();
	}
	return 0;
}

SEC("tp_btf/rpc_timeout_status")
int BPF_PROG(handle_major_timeout, struct rpc_task___ioh *task)
{
	struct ioh_xprt_stats *s = xprt_stats(BPF_CORE_READ(task, tk_xprt));

	if (s)
		s->major_timeouts += 1;
	return 0;
}

SEC("tp_btf/xprt_timer")
int BPF_PROG(handle_minor_timeout, struct rpc_xprt___ioh *xprt, __be32 xid, int status)
{
	struct ioh_xprt_stats *s = xprt_stats(xprt);

	if (s)
		s->minor_timeouts += 1;
	return 0;
}

SEC("tp_btf/xprt_retransmit")
int BPF_PROG(handle_retransmit, struct rpc_rqst___ioh *rqst)
{
	struct ioh_xprt_stats *s = xprt_stats(BPF_CORE_READ(rqst, rq_xprt));

	if (s)
		s->retransmits += 1;
	return 0;
}

/* A destroyed transport's pointer may come back for another server: forget it. */
SEC("tp_btf/xprt_destroy")
int BPF_PROG(handle_xprt_destroy, struct rpc_xprt___ioh *xprt)
{
	__u64 key = (__u64)xprt;

	bpf_map_delete_elem(&nfs_xprt_stats, &key);
	bpf_map_delete_elem(&nfs_xprt_addr, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
