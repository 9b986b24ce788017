/* What the block probe families (rq and bio) share on top of the per-device counters: the
 * kernel's request operation and status codes. BPF side only. */
#ifndef IOHEALTH_BPF_BLOCK_BPF_H
#define IOHEALTH_BPF_BLOCK_BPF_H

#include "dev_stats.bpf.h"

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

#endif /* IOHEALTH_BPF_BLOCK_BPF_H */
