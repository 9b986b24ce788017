#pragma once
// What the daemon keeps across its own restarts and the host's reboots (userspace/state/):
//  - the no-progress episodes under way, in the runtime directory (/run/iohealth, memory only):
//    a daemon restarted during a stall resumes its deadline and ladder instead of starting
//    them over;
//  - the runtime mode and a maintenance window, in the state directory (/var/lib/iohealth);
//  - the last fence that rebooted the host, written there before the step runs, so a path
//    still dead at the next boot does not reboot it again while no guest needs the path.
// Each file is read once at start; a stale, corrupt or unreadable one is discarded with a log
// line, never fatal.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/executor.h"
#include "daemon/engine.h"
#include "daemon/paths.h"
#include "state/episode_store.h"
#include "state/fence_record.h"
#include "state/reboot_guard.h"

namespace iohealth {

// Empty: nothing of that kind is kept. A daemon started by hand (a test, a debugging session)
// keeps nothing unless told where, so it never inherits the service's mode or fence record.
struct StateDirs {
    std::filesystem::path runtime;  // --runtime-dir, or $RUNTIME_DIRECTORY (/run/iohealth)
    std::filesystem::path state;    // --state-dir, or $STATE_DIRECTORY (/var/lib/iohealth)
};
// systemd's RuntimeDirectory=/StateDirectory= as passed in the environment, if any.
StateDirs default_state_dirs();

// What libvirt says this tick: nullopt while it is not configured or not connected, else the
// guests with a disk on each path (by path name).
using GuestsByPath = std::optional<std::map<std::string, std::size_t>>;

class KeptState {
  public:
    KeptState(StateDirs dirs, const Clock& clock, state::UnknownGuests unknown_guests);

    // --- at start, before the first tick ---
    // Reads the episodes kept by the previous process; each goes into its path's monitor
    // before that path's first tick (before_tick), once its device is known.
    void read_episodes();
    // The mode kept by the previous process (or the configured one).
    ModeState restore_mode(Mode configured, TimePoint now);
    // The last fence, if it rebooted for one of these paths in an earlier boot: their reboot
    // steps are held until released (see state/reboot_guard.h).
    void read_last_fence(Engine& engine, const std::vector<Watched>& paths, TimePoint now);

    // --- around every tick ---
    void before_tick(Engine& engine, const std::vector<Watched>& paths, TimePoint now);
    void after_tick(Engine& engine, const std::vector<Watched>& paths, const GuestsByPath& guests,
                    TimePoint now);
    // --- after a mode change (a command, or maintenance ending) ---
    void save_mode(const ModeState& mode, Mode configured);

    // Wraps `inner` so that a reboot step (armed) writes the last-fence record first.
    std::unique_ptr<Executor> recording(std::unique_ptr<Executor> inner,
                                        const std::vector<Watched>& paths);

  private:
    void save_episodes(const Engine& engine, const std::vector<Watched>& paths, TimePoint now);
    void guard_reboots(Engine& engine, const GuestsByPath& guests, TimePoint now);
    void note_already_stalled(const Engine& engine, TimePoint now);

    StateDirs dirs_;
    const Clock& clock_;
    state::UnknownGuests unknown_guests_;
    std::string boot_id_;
    std::string episodes_boot_;                  // the boot that wrote the kept episodes
    std::vector<state::EpisodeRecord> pending_;  // kept episodes not yet resumed
    std::string last_episodes_;                  // the JSON last written, to write only changes
    std::optional<ModeState> saved_mode_;
    std::optional<TimePoint> first_tick_;
    std::set<std::string> restored_;                // paths whose episode was restored
    std::set<std::string> already_noted_;           // paths reported stalled since before the start
    std::optional<state::FenceRecord> last_fence_;  // from an earlier boot, for a watched path
    std::set<std::string> served_;                  // paths that completed I/O since the start
    bool guard_released_ = false;
};

}  // namespace iohealth
