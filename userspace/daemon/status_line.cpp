#include "daemon/status_line.h"

#include <map>

#include <fmt/format.h>

namespace iohealth {

std::string status_line(const std::string& mode, const std::vector<PathStatus>& paths) {
    std::map<std::string, int> by_verdict;  // name order: stable from tick to tick
    for (const auto& p : paths) ++by_verdict[p.verdict];
    std::string line =
        fmt::format("mode {}, {} path{}", mode, paths.size(), paths.size() == 1 ? "" : "s");
    const char* sep = ": ";
    for (const auto& [verdict, n] : by_verdict) {
        line += fmt::format("{}{} {}", sep, n, verdict);
        sep = ", ";
    }
    return line;
}

}  // namespace iohealth
