#pragma once
// No reboot loops: after a fence rebooted the host for a path, that path, still dead at the
// next start, does not reboot the host again while rebooting cannot help anyone. Pure: the
// daemon gathers the facts each tick and applies the answer.
#include <optional>
#include <string>

namespace iohealth::state {

// What libvirt says of the guests with a disk on the path.
enum class GuestsOnPath {
    kUnknown,  // libvirt not configured or not connected
    kNone,     // connected: no running guest has a disk on the path
    kSome,     // connected: at least one running guest does
};

// With libvirt unavailable nobody can tell whether a guest needs the path: `hold` (the
// default) keeps the host up, since the fence already stopped everything it ran; `allow`
// fences again.
enum class UnknownGuests { kHold, kAllow };

struct RebootGuardFacts {
    bool fenced_for_path = false;  // the last fence record names this path, from an earlier boot
    bool served_io = false;        // the path completed I/O since the daemon started
    GuestsOnPath guests = GuestsOnPath::kUnknown;
    UnknownGuests unknown = UnknownGuests::kHold;
};

enum class RebootGuard {
    kNone,     // the full ladder (no fence for this path, or libvirt unknown under `allow`)
    kHold,     // reboot steps are held, lower rungs run
    kRelease,  // the guard ends for good: a guest uses the path, or it served I/O
};

RebootGuard reboot_guard(const RebootGuardFacts& f);

}  // namespace iohealth::state
