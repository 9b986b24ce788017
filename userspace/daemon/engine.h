#pragma once
// The decision pipeline shared by the live daemon and --replay: per tick, every path's sample
// goes through its PathMonitor; events go to the sink, requests to the executor, results back
// to the monitors. The same inputs in the same order give the same output, which is what
// makes a recording a test fixture.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/executor.h"
#include "core/host_ladder.h"
#include "core/mode.h"
#include "core/path_monitor.h"
#include "journal/event_sink.h"
#include "record/recorder.h"

namespace iohealth {

class Engine {
  public:
    // `recorder` may be null. The executor's results may arrive from any thread.
    Engine(const std::vector<PathConfig>& paths, Mode mode, EventSink& sink, Executor& executor,
           Recorder* recorder = nullptr);

    // One tick: maintenance expiry, each path's sample (configuration order; a path without a
    // sample this tick is skipped), then the actions they raised, then results already back.
    void tick(TimePoint now, const std::map<std::string, Sample>& samples);
    // Results that arrived since the last call (asynchronous executors).
    void drain_results(TimePoint now);
    // A result read from a recording (replay).
    void apply_result(const ActionResult& r, TimePoint now);

    // A reloaded configuration: a path whose name and settings are unchanged keeps its
    // monitor (evidence window, verdict, a ladder under way); any other path starts afresh;
    // paths no longer configured are dropped (their late action results are ignored).
    void reconfigure(const std::vector<PathConfig>& paths);

    // A ladder the host asked for (core/host_ladder.h): step 1 runs now, the rest on later
    // ticks. Dropped once finished with every result back.
    void start_host_ladder(std::unique_ptr<HostLadder> ladder, TimePoint now);
    // A host ladder whose name starts with `name_prefix` and that has steps left, if any.
    const HostLadder* running_host_ladder(std::string_view name_prefix) const;

    void set_mode(Mode mode, const std::string& reason, TimePoint now);
    void maintenance(Duration length, const std::string& reason, TimePoint now);

    // The mode kept across a restart (daemon/kept_state.h), before the first tick.
    void restore_mode(const ModeState& mode) { mode_ = mode; }
    // A path's episode kept across a restart (PathMonitor::carry_episode).
    void carry_episode(const std::string& path, TimePoint since,
                       std::optional<LadderPosition> ladder);
    // The reboot guard (state/reboot_guard.h) on one path's ladder.
    void hold_reboots(const std::string& path, const std::string& why);
    void release_reboots(const std::string& path, TimePoint now);
    bool reboots_held(const std::string& path) const;
    const PathMonitor* monitor(const std::string& path) const;

    const ModeState& mode() const { return mode_; }
    const std::vector<std::unique_ptr<PathMonitor>>& monitors() const { return monitors_; }

  private:
    void publish(TickOutput out);
    PathMonitor* find(const std::string& path);

    std::vector<std::unique_ptr<PathMonitor>> monitors_;
    std::vector<std::unique_ptr<HostLadder>> host_ladders_;
    ModeState mode_;
    EventSink& sink_;
    Executor& executor_;
    Recorder* recorder_;
    std::mutex results_mutex_;
    std::vector<ActionResult> results_;
};

}  // namespace iohealth
