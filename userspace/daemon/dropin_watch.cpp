#include "daemon/dropin_watch.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "cloudstack/dropin_check.h"

namespace iohealth {

namespace {
constexpr Duration kEvery = std::chrono::minutes(1);
}  // namespace

void DropinWatch::check(TimePoint now) {
    if (last_ && now - *last_ < kEvery) return;
    last_ = now;
    std::ifstream in{std::string(kDpkgDiversions)};
    std::ostringstream text;
    if (in) text << in.rdbuf();
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    const auto found = misplaced_dropins(diverted_for(text.str(), "iohealth"), dropin_dir(self));
    std::set<std::string> now_misplaced(found.begin(), found.end());
    for (const auto& m : now_misplaced)
        if (!misplaced_.contains(m)) spdlog::warn("CloudStack drop-in: {}", m);
    if (!misplaced_.empty() && now_misplaced.empty())
        spdlog::info("CloudStack drop-ins: all back in place");
    misplaced_ = std::move(now_misplaced);
}

}  // namespace iohealth
