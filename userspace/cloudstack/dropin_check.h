#pragma once
// Whether the CloudStack drop-ins iohealth-cloudstack enabled are still in place: each agent
// script dpkg diverts for package "iohealth" must resolve to iohealth's drop-in of the same
// name. Something else there (a hand copy of a new stock script, a removed link) means the
// agent fences with sysrq again, without iohealthd: the daemon warns (docs/cloudstack.md).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace iohealth {

// dpkg's diversions database (/var/lib/dpkg/diversions): triples of lines, the diverted path,
// where it was diverted to, the package. The paths diverted for `package`.
std::vector<std::filesystem::path> diverted_for(std::string_view diversions,
                                                std::string_view package);

// One sentence per diverted script that is not the drop-in in `dropins`; empty when all are.
std::vector<std::string> misplaced_dropins(const std::vector<std::filesystem::path>& diverted,
                                           const std::filesystem::path& dropins);

// Where the drop-ins are installed for a program in PREFIX/sbin: PREFIX/share/iohealth/cloudstack.
std::filesystem::path dropin_dir(const std::filesystem::path& program);
// dpkg's database.
inline constexpr std::string_view kDpkgDiversions = "/var/lib/dpkg/diversions";

}  // namespace iohealth
