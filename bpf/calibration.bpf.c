// SPDX-License-Identifier: GPL-2.0
/* Empty programs on the tracepoints the probes use. With bpf_enable_stats(BPF_STATS_RUN_TIME)
 * their run_time_ns / run_cnt is the measurement floor that tests/bench subtracts to get the
 * net cost of the real programs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp_btf/block_rq_complete")
int calib_rq_complete(void *ctx)
{
	return 0;
}

/* block_rq_issue runs in the submitter's context, where interrupts (completions among them)
 * land inside a program's measured time far more than at completion: each tracepoint needs
 * its own floor. */
SEC("tp_btf/block_rq_issue")
int calib_rq_issue(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_rq_requeue")
int calib_rq_requeue(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
