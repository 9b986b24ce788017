#include "state/reboot_guard.h"

namespace iohealth::state {

RebootGuard reboot_guard(const RebootGuardFacts& f) {
    if (!f.fenced_for_path) return RebootGuard::kNone;
    if (f.served_io || f.guests == GuestsOnPath::kSome) return RebootGuard::kRelease;
    if (f.guests == GuestsOnPath::kNone) return RebootGuard::kHold;
    return f.unknown == UnknownGuests::kHold ? RebootGuard::kHold : RebootGuard::kNone;
}

}  // namespace iohealth::state
