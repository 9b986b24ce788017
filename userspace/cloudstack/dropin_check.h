#pragma once
// Whether the CloudStack drop-ins iohealth-cloudstack enabled are still in place: each agent
// script it listed (STATE_DIR/cloudstack-dropins) must resolve to iohealth's drop-in of the
// same name. Something else there (a hand copy of a new stock script, a removed link) means the
// agent fences with sysrq again, without iohealthd: the daemon warns (docs/cloudstack.md).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace iohealth {

// The scripts iohealth-cloudstack enable listed: one path a line.
std::vector<std::filesystem::path> expected_dropins(std::string_view list);

// One sentence per diverted script that is not the drop-in in `dropins`; empty when all are.
std::vector<std::string> misplaced_dropins(const std::vector<std::filesystem::path>& diverted,
                                           const std::filesystem::path& dropins);

// Where the drop-ins are installed for a program in PREFIX/sbin: PREFIX/share/iohealth/cloudstack.
std::filesystem::path dropin_dir(const std::filesystem::path& program);
// The list's name in the state directory.
inline constexpr std::string_view kExpectedDropins = "cloudstack-dropins";

}  // namespace iohealth
