#pragma once
// The daemon's check that the CloudStack drop-ins iohealth-cloudstack enabled are still in
// place (cloudstack/dropin_check.h): at start and once a minute; a warning when one is no
// longer there, a notice when all are back. Nothing is checked when dpkg has no diversion for
// iohealth (the drop-ins were never enabled, or were disabled).
#include <optional>
#include <set>
#include <string>

#include "core/time.h"

namespace iohealth {

class DropinWatch {
  public:
    void check(TimePoint now);

  private:
    std::set<std::string> misplaced_;
    std::optional<TimePoint> last_;
};

}  // namespace iohealth
