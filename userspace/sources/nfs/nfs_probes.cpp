#include "sources/nfs/nfs_probes.h"

#include <linux/types.h>
// clang-format off: the shared BPF header needs the __u* types first.
#include "iohealth.h"
// clang-format on

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "nfs.skel.h"
#include "os/errno_text.h"
#include "sources/bpf/dev_stats.h"

namespace iohealth {
namespace {

std::string address_text(const ioh_xprt_addr& a) {
    sa_family_t family = 0;
    std::memcpy(&family, a.sockaddr, sizeof(family));
    char text[INET6_ADDRSTRLEN] = {};
    if (family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, a.sockaddr, sizeof(in));
        ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    } else if (family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, a.sockaddr, sizeof(in6));
        ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    } else {
        return fmt::format("(address family {})", family);
    }
    return text;
}

// Every key of a map (the tables are small: mounts, transports, RPCs in flight).
template <typename Key>
std::vector<Key> keys_of(int fd) {
    std::vector<Key> keys;
    Key key{}, next{};
    for (bool first = true; bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0;
         first = false) {
        keys.push_back(next);
        key = next;
    }
    return keys;
}

void note_in_flight(NfsInFlight& f, std::uint64_t start_ns) {
    f.oldest_start_ns = f.count == 0 ? start_ns : std::min(f.oldest_start_ns, start_ns);
    ++f.count;
}

}  // namespace

struct NfsProbes::Skeleton {
    nfs* obj = nullptr;
    ~Skeleton() { nfs__destroy(obj); }
};

Expected<std::unique_ptr<NfsProbes>> NfsProbes::make(const std::string& btf_dir) {
    using Made = Expected<std::unique_ptr<NfsProbes>>;
    for (const char* module : {"sunrpc", "nfs"}) {
        const std::string path = btf_dir + "/" + module;
        if (::access(path.c_str(), R_OK) != 0)
            return Made::failure(
                fmt::format("no BTF for module {} at {}: {} (the module is not loaded "
                            "yet, or was built without BTF)",
                            module, path, errno_text(errno)));
    }
    const int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0) return Made::failure("Failed to count possible CPUs: " + errno_text(ncpus));
    auto skel = std::make_unique<Skeleton>();
    skel->obj = nfs__open();
    if (skel->obj == nullptr)
        return Made::failure("Failed to open BPF object 'nfs': " + errno_text(errno));
    if (const int err = nfs__load(skel->obj); err != 0)
        return Made::failure("Failed to load BPF object 'nfs': " + errno_text(err));
    if (const int err = nfs__attach(skel->obj); err != 0)
        return Made::failure("Failed to attach BPF object 'nfs': " + errno_text(err));
    return std::unique_ptr<NfsProbes>(new NfsProbes(std::move(skel), ncpus));
}

NfsProbes::NfsProbes(std::unique_ptr<Skeleton> skel, int ncpus)
    : skel_(std::move(skel)), ncpus_(ncpus) {}

NfsProbes::~NfsProbes() = default;

NfsReading NfsProbes::read(std::uint64_t rpcs_started_before_ns) const {
    NfsReading r;
    const auto& maps = skel_->obj->maps;
    const auto cpus = static_cast<std::size_t>(ncpus_);

    const int dev_fd = bpf_map__fd(maps.nfs_dev_stats);
    for (const auto kdev : keys_of<std::uint32_t>(dev_fd)) {
        NfsMountCounters m;
        if (read_dev_stats(dev_fd, kdev, ncpus_, m)) r.mounts[kdev] = m;
    }

    const int xprt_fd = bpf_map__fd(maps.nfs_xprt_stats);
    const int addr_fd = bpf_map__fd(maps.nfs_xprt_addr);
    std::vector<ioh_xprt_stats> xprt_values(cpus);
    for (const auto id : keys_of<std::uint64_t>(xprt_fd)) {
        ioh_xprt_addr addr{};
        if (bpf_map_lookup_elem(xprt_fd, &id, xprt_values.data()) != 0 ||
            bpf_map_lookup_elem(addr_fd, &id, &addr) != 0)
            continue;
        auto& t = r.transports[id];
        t.server = address_text(addr);
        for (const auto& c : xprt_values) {
            t.replies += c.replies;
            t.last_reply_ns = std::max<std::uint64_t>(t.last_reply_ns, c.last_reply_ns);
            t.major_timeouts += c.major_timeouts;
            t.minor_timeouts += c.minor_timeouts;
            t.retransmits += c.retransmits;
        }
    }

    const int data_fd = bpf_map__fd(maps.nfs_inflight);
    for (const auto key : keys_of<std::uint64_t>(data_fd)) {
        ioh_inflight v{};
        if (bpf_map_lookup_elem(data_fd, &key, &v) == 0)
            note_in_flight(r.data_in_flight[v.dev], v.start_ns);
    }
    const int rpc_fd = bpf_map__fd(maps.nfs_rpc_inflight);
    for (const auto key : keys_of<std::uint64_t>(rpc_fd)) {
        ioh_rpc_inflight v{};
        if (bpf_map_lookup_elem(rpc_fd, &key, &v) == 0 && v.start_ns < rpcs_started_before_ns)
            note_in_flight(r.rpcs_in_flight[v.xprt], v.start_ns);
    }
    return r;
}

void NfsProbes::forget_mount(std::uint32_t kdev) {
    const auto& maps = skel_->obj->maps;
    bpf_map_delete_elem(bpf_map__fd(maps.nfs_dev_stats), &kdev);
    const int data_fd = bpf_map__fd(maps.nfs_inflight);
    for (const auto key : keys_of<std::uint64_t>(data_fd)) {
        ioh_inflight v{};
        if (bpf_map_lookup_elem(data_fd, &key, &v) == 0 && v.dev == kdev)
            bpf_map_delete_elem(data_fd, &key);
    }
}

NfsDiagnostics NfsProbes::diagnostics() const {
    const int fd = bpf_map__fd(skel_->obj->maps.nfs_diag);
    NfsDiagnostics d;
    d.inflight_update_failed = read_per_cpu_sum(fd, IOH_DIAG_INFLIGHT_UPDATE_FAIL, ncpus_);
    d.device_update_failed = read_per_cpu_sum(fd, IOH_DIAG_DEV_UPDATE_FAIL, ncpus_);
    return d;
}

}  // namespace iohealth
