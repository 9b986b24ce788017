#include "daemon/kept_state.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "daemon/explain.h"
#include "sources/block/block_devices.h"
#include "state/episode_store.h"
#include "state/json_file.h"
#include "state/mode_store.h"

namespace iohealth {
namespace {

constexpr const char* kEpisodesFile = "episodes.json";
constexpr const char* kModeFile = "mode.json";
constexpr const char* kLastFenceFile = "last-fence.json";
// How long a reboot step waits for its record to reach the disk: the state directory may sit
// on storage that is itself hung, and the fence must go ahead regardless.
constexpr auto kFenceRecordWait = std::chrono::seconds(1);

std::string read_boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

std::string device_of(const std::vector<Watched>& paths, const std::string& name) {
    for (const auto& w : paths)
        if (w.config.name == name) return w.dev ? format_dev(*w.dev) : "";
    return "";
}

std::int64_t realtime_now_usec(const Clock& clock) {
    return static_cast<std::int64_t>(realtime_usec(clock.now()));
}

// "2026-12-07 14:30:00 UTC"
std::string realtime_text(std::int64_t usec) {
    const std::time_t t = static_cast<std::time_t>(usec / 1'000'000);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

// The file's JSON object, or nullopt (absent; unreadable or corrupt: logged and removed).
std::optional<nlohmann::json> read_kept(const std::filesystem::path& file, const char* what) {
    auto j = state::read_json_file(file);
    if (!j) {
        spdlog::warn("Discarding the kept {}: {}", what, j.error());
        if (const std::string why = state::remove_file(file); !why.empty()) spdlog::warn("{}", why);
        return std::nullopt;
    }
    return *j;
}

void write_kept(const std::filesystem::path& file, const nlohmann::json& j) {
    if (const std::string why = state::write_json_file(file, j); !why.empty())
        spdlog::warn("{}", why);
}

// Writes the last-fence record, then runs the step: the record is written (and synced) on a
// thread of its own, and the step waits for it at most kFenceRecordWait.
class RecordingExecutor final : public Executor {
  public:
    RecordingExecutor(std::unique_ptr<Executor> inner, std::filesystem::path file,
                      std::string boot_id, const std::vector<Watched>& paths, const Clock& clock)
        : inner_(std::move(inner)),
          file_(std::move(file)),
          boot_id_(std::move(boot_id)),
          paths_(paths),
          clock_(clock) {}

    void execute(const ActionRequest& r, Done done) override {
        const bool reboots = r.action == Action::kGracefulReboot || r.action == Action::kReboot;
        if (reboots && !r.dry_run) {
            const state::FenceRecord record{r.path,   device_of(paths_, r.path), r.action, r.step,
                                            r.reason, realtime_now_usec(clock_), boot_id_};
            auto written = std::make_shared<std::promise<std::string>>();
            auto result = written->get_future();
            std::thread([file = file_, record, written] {
                written->set_value(state::write_json_file(file, state::to_json(record)));
            }).detach();
            if (result.wait_for(kFenceRecordWait) != std::future_status::ready)
                spdlog::error(
                    "The last-fence record '{}' is not written after {} s; fencing anyway",
                    file_.string(), kFenceRecordWait.count());
            else if (const std::string why = result.get(); !why.empty())
                spdlog::error("Failed to write the last-fence record: {}; fencing anyway", why);
        }
        inner_->execute(r, std::move(done));
    }

  private:
    std::unique_ptr<Executor> inner_;
    std::filesystem::path file_;
    std::string boot_id_;
    const std::vector<Watched>& paths_;
    const Clock& clock_;
};

}  // namespace

StateDirs default_state_dirs() {
    const auto dir = [](const char* env) {
        const char* v = std::getenv(env);
        // systemd passes a colon-separated list when several directories are configured.
        const std::string s = v ? v : "";
        return std::filesystem::path(s.substr(0, s.find(':')));
    };
    return {dir("RUNTIME_DIRECTORY"), dir("STATE_DIRECTORY")};
}

KeptState::KeptState(StateDirs dirs, const Clock& clock, state::UnknownGuests unknown_guests)
    : dirs_(std::move(dirs)),
      clock_(clock),
      unknown_guests_(unknown_guests),
      boot_id_(read_boot_id()) {}

void KeptState::read_episodes() {
    if (dirs_.runtime.empty()) return;
    const auto j = read_kept(dirs_.runtime / kEpisodesFile, "episodes");
    if (!j) return;
    auto file = state::episode_file_from_json(*j);
    if (!file) {
        spdlog::warn("Discarding the kept episodes: {}", file.error());
        return;
    }
    episodes_boot_ = file->boot_id;
    pending_ = std::move(file->episodes);
}

void KeptState::before_tick(Engine& engine, const std::vector<Watched>& paths, TimePoint now) {
    std::erase_if(pending_, [&](const state::EpisodeRecord& r) {
        const PathMonitor* m = engine.monitor(r.path);
        if (!m || !m->window().empty()) {
            spdlog::info("Discarding the kept episode of '{}': {}", r.path,
                         m ? "the path was watched without it" : "no such path any more");
            return true;
        }
        const std::string device = device_of(paths, r.path);
        const Duration dead_after = m->config().policy.timings.dead_after;
        if (device.empty() && now - r.updated <= dead_after) return false;  // not resolved yet
        if (const auto stale =
                state::stale_reason(r, episodes_boot_, boot_id_, device, now, dead_after)) {
            spdlog::warn("Discarding the kept no-progress episode of '{}': {}", r.path, *stale);
            return true;
        }
        engine.carry_episode(r.path, r.since, r.ladder);
        restored_.insert(r.path);
        spdlog::warn(
            "Path '{}': resuming its no-progress episode of {} (kept across the restart){}", r.path,
            format_duration(now - r.since),
            r.ladder ? fmt::format(", ladder after step {}", r.ladder->step) : "");
        return true;
    });
}

void KeptState::save_episodes(const Engine& engine, const std::vector<Watched>& paths,
                              TimePoint now) {
    if (dirs_.runtime.empty()) return;
    state::EpisodeFile file{boot_id_, {}};
    for (const auto& m : engine.monitors()) {
        const auto since = m->episode_since();
        if (!since) continue;
        file.episodes.push_back({m->config().name, device_of(paths, m->config().name), *since,
                                 m->escalation().position(), now});
    }
    // Nothing under way: one empty file, not a write per tick.
    const std::string text = state::to_json(file).dump();
    if (file.episodes.empty() && text == last_episodes_) return;
    last_episodes_ = text;
    write_kept(dirs_.runtime / kEpisodesFile, state::to_json(file));
}

ModeState KeptState::restore_mode(Mode configured, TimePoint now) {
    saved_mode_ = ModeState(configured);
    if (dirs_.state.empty()) return *saved_mode_;
    const auto j = read_kept(dirs_.state / kModeFile, "mode");
    if (!j) return *saved_mode_;
    const auto record = state::mode_record_from_json(*j);
    if (!record) {
        spdlog::warn("Discarding the kept mode: {}", record.error());
        return *saved_mode_;
    }
    const auto restored = state::restore_mode(*record, configured, now, realtime_now_usec(clock_));
    if (!restored.note.empty()) spdlog::info("Kept mode: {}", restored.note);
    return restored.mode;
}

void KeptState::save_mode(const ModeState& mode, Mode configured) {
    if (dirs_.state.empty() || (saved_mode_ && *saved_mode_ == mode)) return;
    saved_mode_ = mode;
    const auto until = mode.effective().maintenance_until;
    const auto record = state::mode_record(
        mode, configured,
        until ? std::optional(static_cast<std::int64_t>(realtime_usec(*until))) : std::nullopt);
    const std::filesystem::path file = dirs_.state / kModeFile;
    if (!record) {
        if (const std::string why = state::remove_file(file); !why.empty()) spdlog::warn("{}", why);
        return;
    }
    write_kept(file, state::to_json(*record));
}

void KeptState::read_last_fence(Engine& engine, const std::vector<Watched>& paths, TimePoint now) {
    if (dirs_.state.empty()) return;
    const auto j = read_kept(dirs_.state / kLastFenceFile, "last-fence record");
    if (!j) return;
    auto record = state::fence_record_from_json(*j);
    if (!record) {
        spdlog::warn("Discarding the last-fence record: {}", record.error());
        return;
    }
    const bool watched = std::any_of(paths.begin(), paths.end(), [&](const Watched& w) {
        return w.config.name == record->path;
    });
    if (!watched || record->boot_id == boot_id_) return;  // not a fence that rebooted for us
    last_fence_ = *record;
    guard_reboots(engine, std::nullopt, now);  // before the first tick: libvirt not asked yet
    spdlog::warn("The last fence rebooted this host for path '{}' at {} (step {} {}): {}",
                 record->path, realtime_text(record->at_realtime_us), record->step,
                 to_string(record->action), record->evidence);
}

std::unique_ptr<Executor> KeptState::recording(std::unique_ptr<Executor> inner,
                                               const std::vector<Watched>& paths) {
    if (dirs_.state.empty()) return inner;
    return std::make_unique<RecordingExecutor>(std::move(inner), dirs_.state / kLastFenceFile,
                                               boot_id_, paths, clock_);
}

void KeptState::after_tick(Engine& engine, const std::vector<Watched>& paths,
                           const GuestsByPath& guests, TimePoint now) {
    if (!first_tick_) first_tick_ = now;
    for (const auto& m : engine.monitors())
        if (m->assessment().proof_of_life) served_.insert(m->config().name);
    save_episodes(engine, paths, now);
    note_already_stalled(engine, now);
    guard_reboots(engine, guests, now);
}

// A path found without progress at start, with no episode kept: its episode counts from the
// first tick (never earlier than the truth), and the journal says so once.
void KeptState::note_already_stalled(const Engine& engine, TimePoint) {
    for (const auto& m : engine.monitors()) {
        const std::string& name = m->config().name;
        const Verdict v = m->assessment().verdict;
        if (restored_.count(name) || already_noted_.count(name) || served_.count(name)) continue;
        if (v != Verdict::kStalled && v != Verdict::kDead) continue;
        already_noted_.insert(name);
        spdlog::warn(
            "Path '{}' was already without progress when iohealthd started: its no-progress "
            "episode is counted from the first tick, {} ago (the true start is unknown)",
            name, format_duration(m->assessment().at - *first_tick_));
    }
}

void KeptState::guard_reboots(Engine& engine, const GuestsByPath& guests, TimePoint now) {
    if (!last_fence_ || guard_released_) return;
    const std::string& path = last_fence_->path;
    state::RebootGuardFacts facts;
    facts.fenced_for_path = true;
    facts.served_io = served_.count(path) > 0;
    if (guests) {
        const auto it = guests->find(path);
        facts.guests = it != guests->end() && it->second > 0 ? state::GuestsOnPath::kSome
                                                             : state::GuestsOnPath::kNone;
    }
    facts.unknown = unknown_guests_;
    const state::RebootGuard decision = state::reboot_guard(facts);
    if (decision == state::RebootGuard::kNone) {
        if (engine.reboots_held(path)) engine.release_reboots(path, now);
        return;
    }
    if (decision == state::RebootGuard::kHold) {
        if (!engine.reboots_held(path)) {
            const std::string why = fmt::format(
                "still dead after the fence at {}; {}", realtime_text(last_fence_->at_realtime_us),
                facts.guests == state::GuestsOnPath::kNone ? "no running guest has a disk on it"
                                                           : "libvirt unavailable (policy: hold)");
            engine.hold_reboots(path, why);
            spdlog::critical("Path '{}' is {}: reboot steps are held, lower rungs may run", path,
                             why);
        }
        return;
    }
    guard_released_ = true;
    engine.release_reboots(path, now);
    spdlog::warn("Path '{}': the full ladder is back ({})", path,
                 facts.served_io ? "the path served I/O" : "a guest uses the path");
    if (const std::string why = state::remove_file(dirs_.state / kLastFenceFile); !why.empty())
        spdlog::warn("{}", why);
}

}  // namespace iohealth
