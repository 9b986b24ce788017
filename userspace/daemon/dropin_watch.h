#pragma once
// The daemon's check that the CloudStack drop-ins iohealth-cloudstack enabled are still in
// place (cloudstack/dropin_check.h): at start and once a minute; a warning when one is no
// longer there, a notice when all are back. Nothing is checked without a state directory or
// while its list is absent (the drop-ins were never enabled, or were disabled).
#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include "core/time.h"

namespace iohealth {

class DropinWatch {
  public:
    explicit DropinWatch(std::filesystem::path state_dir) : state_dir_(std::move(state_dir)) {}
    void check(TimePoint now);

  private:
    std::filesystem::path state_dir_;
    std::set<std::string> misplaced_;
    std::optional<TimePoint> last_;
};

}  // namespace iohealth
