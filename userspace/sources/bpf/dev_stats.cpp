#include "sources/bpf/dev_stats.h"

#include <bpf/bpf.h>
#include <linux/types.h>
// clang-format off: the shared BPF header needs the __u* types first.
#include "iohealth.h"
// clang-format on

#include <algorithm>
#include <vector>

namespace iohealth {

static_assert(IOH_HIST_SLOTS == LatencyHistogram::kSlots,
              "bpf/iohealth.h and core/histogram.h must share one slot layout");
static_assert(IOH_OP_MAX == std::tuple_size_v<decltype(DevStatsTotals::latency)>);
static_assert(IOH_ERR_MAX == std::tuple_size_v<decltype(DevStatsTotals::errors)>);

bool read_dev_stats(int map_fd, std::uint32_t key, int ncpus, DevStatsTotals& out) {
    std::vector<ioh_dev_stats> cpus(static_cast<std::size_t>(ncpus));
    if (bpf_map_lookup_elem(map_fd, &key, cpus.data()) != 0) return false;
    out = {};
    for (const auto& c : cpus) {
        out.issued += c.issued;
        out.completed += c.completed;
        out.bytes += c.bytes;
        for (int e = 0; e < IOH_ERR_MAX; ++e) out.errors[e] += c.errors[e];
        out.last_complete_ns = std::max<std::uint64_t>(out.last_complete_ns, c.last_complete_ns);
        for (int op = 0; op < IOH_OP_MAX; ++op)
            for (int s = 0; s < IOH_HIST_SLOTS; ++s) out.latency[op].slots()[s] += c.hist[op][s];
    }
    return true;
}

std::uint64_t read_per_cpu_sum(int map_fd, std::uint32_t key, int ncpus) {
    std::vector<std::uint64_t> values(static_cast<std::size_t>(ncpus));
    if (bpf_map_lookup_elem(map_fd, &key, values.data()) != 0) return 0;
    std::uint64_t total = 0;
    for (auto v : values) total += v;
    return total;
}

}  // namespace iohealth
