#include "cloudstack/dropin_check.h"

#include <fmt/format.h>

#include <sstream>

namespace iohealth {

namespace fs = std::filesystem;

std::vector<fs::path> diverted_for(std::string_view diversions, std::string_view package) {
    std::vector<fs::path> out;
    std::istringstream in{std::string(diversions)};
    for (std::string from, to, owner;
         std::getline(in, from) && std::getline(in, to) && std::getline(in, owner);)
        if (owner == package) out.emplace_back(from);
    return out;
}

fs::path dropin_dir(const fs::path& program) {
    return program.parent_path().parent_path() / "share/iohealth/cloudstack";
}

std::vector<std::string> misplaced_dropins(const std::vector<fs::path>& diverted,
                                           const fs::path& dropins) {
    std::vector<std::string> out;
    for (const fs::path& script : diverted) {
        const fs::path dropin = dropins / script.filename();
        std::error_code ec;
        if (!fs::exists(script, ec)) {
            out.push_back(
                fmt::format("{} is missing: the CloudStack agent cannot write its "
                            "heartbeat or hand its fence to iohealthd",
                            script.string()));
        } else if (!fs::equivalent(script, dropin, ec)) {
            out.push_back(
                fmt::format("{} is no longer iohealth's drop-in ({}): the CloudStack "
                            "agent fences without iohealthd; run "
                            "'iohealth-cloudstack enable'",
                            script.string(), dropin.string()));
        }
    }
    return out;
}

}  // namespace iohealth
