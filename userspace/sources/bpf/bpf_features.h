#pragma once
// What the running kernel offers the block probes, probed once at start-up from its BTF.
// Kernel drift is decided from data (the tracepoints' BTF prototypes), never from the kernel
// version: backports move signatures between versions (bcc 952415e4).
#include <string>

namespace iohealth {

struct BpfFeatures {
    bool vmlinux_btf = false;         // /sys/kernel/btf/vmlinux loads
    bool rq_tracepoints = false;      // block_rq_complete (and block_rq_issue)
    bool rq_issue_single_arg = true;  // block_rq_issue(rq) since 5.11; (q, rq) before
    bool rq_error_is_errno = false;   // block_rq_complete(rq, int errno, ...) before 6.0
    bool bio_tracepoints = false;     // block_bio_queue + block_bio_complete
    // Why the block probes cannot run at all; empty when they can.
    std::string unavailable_reason;

    bool usable() const { return unavailable_reason.empty(); }

    // `force_degraded` (--no-bpf) reports BPF as unavailable without touching the kernel.
    static BpfFeatures probe(bool force_degraded = false);
};

}  // namespace iohealth
