#include "sources/bpf/bpf_features.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace iohealth {
namespace {

struct BtfDeleter {
    void operator()(btf* b) const { btf__free(b); }
};

// The FUNC_PROTO behind `typedef void (*btf_trace_<tp>)(void *, args...)`, which the kernel
// defines for every tracepoint and tp_btf attaches to; nullptr when the tracepoint is absent.
const btf_type* tracepoint_proto(const btf* vmlinux, const std::string& tracepoint) {
    const auto id =
        btf__find_by_name_kind(vmlinux, ("btf_trace_" + tracepoint).c_str(), BTF_KIND_TYPEDEF);
    if (id < 0) return nullptr;
    const btf_type* t = btf__type_by_id(vmlinux, btf__resolve_type(vmlinux, id));
    if (t == nullptr || !btf_is_ptr(t)) return nullptr;
    t = btf__type_by_id(vmlinux, t->type);
    return t != nullptr && btf_is_func_proto(t) ? t : nullptr;
}

// Name of parameter `i` before typedef resolution ("blk_status_t", "int").
std::string param_type_name(const btf* vmlinux, const btf_type* proto, int i) {
    if (i >= btf_vlen(proto)) return {};
    const btf_type* t = btf__type_by_id(vmlinux, btf_params(proto)[i].type);
    return t != nullptr ? btf__name_by_offset(vmlinux, t->name_off) : std::string{};
}

}  // namespace

BpfFeatures BpfFeatures::probe(bool force_degraded) {
    BpfFeatures f;
    if (force_degraded) {
        f.unavailable_reason = "BPF disabled by configuration (--no-bpf)";
        return f;
    }
    if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
        f.unavailable_reason = std::string("no kernel BTF at /sys/kernel/btf/vmlinux: ") +
                               std::strerror(errno) + " (CONFIG_DEBUG_INFO_BTF is needed)";
        return f;
    }
    std::unique_ptr<btf, BtfDeleter> vmlinux(btf__load_vmlinux_btf());
    if (!vmlinux) {
        f.unavailable_reason = std::string("Failed to load kernel BTF: ") + std::strerror(errno);
        return f;
    }
    f.vmlinux_btf = true;

    const btf_type* complete = tracepoint_proto(vmlinux.get(), "block_rq_complete");
    const btf_type* issue = tracepoint_proto(vmlinux.get(), "block_rq_issue");
    f.rq_tracepoints = complete != nullptr && issue != nullptr;
    if (!f.rq_tracepoints) {
        f.unavailable_reason = "the kernel has no block_rq_complete/block_rq_issue tracepoints";
        return f;
    }
    // ctx first, then the tracepoint's own arguments.
    f.rq_issue_single_arg = btf_vlen(issue) == 2;
    f.rq_error_is_errno = param_type_name(vmlinux.get(), complete, 2) != "blk_status_t";

    f.bio_tracepoints = tracepoint_proto(vmlinux.get(), "block_bio_queue") != nullptr &&
                        tracepoint_proto(vmlinux.get(), "block_bio_complete") != nullptr;
    return f;
}

}  // namespace iohealth
