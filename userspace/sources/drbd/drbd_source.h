#pragma once
// DRBD resources as paths: follows `drbdsetup events2 --statistics` (one long-running child
// whose state changes arrive as they happen), refreshes the statistics with
// `drbdsetup events2 --now --statistics` (the 8.4 module prints them only on state changes,
// and drbdsetup-84 has no --poll), and reads each resource's options with
// `drbdsetup show --show-defaults`. All of that runs on one worker thread; collect() only
// copies the model under a lock and reads /proc/diskstats, so it never blocks on DRBD.
//
// Nothing starts until a DRBD path or discovery asks for it, and drbdsetup is not run while
// /proc/drbd is missing: drbdsetup would otherwise load the drbd module on a host that does
// not use it.
#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/source.h"
#include "sources/block/diskstats_source.h"
#include "sources/drbd/drbd_events.h"
#include "sources/drbd/drbd_facts.h"
#include "sources/drbd/drbd_show.h"

namespace iohealth {

class DrbdSource final : public StorageSource {
  public:
    struct Options {
        std::string drbdsetup = "/usr/sbin/drbdsetup";
        std::string proc_drbd = "/proc/drbd";  // present while the drbd module is loaded
        std::string diskstats = "/proc/diskstats";
        Duration refresh = std::chrono::seconds(2);      // statistics (events2 --now)
        Duration show_every = std::chrono::seconds(60);  // options (drbdsetup show)
        Duration command_timeout = std::chrono::seconds(10);
        Duration restart_min = std::chrono::seconds(1);  // events2 child backoff
        Duration restart_max = std::chrono::seconds(60);
        // Each kind of warning (an odd events2 line, a failed `show`, ...) at most this often;
        // the ones held back are counted in the next.
        Duration warn_every = std::chrono::minutes(10);
    };

    // `clock` stamps the statistics (SteadyClock in the daemon) and must outlive the source.
    DrbdSource(Options options, const Clock& clock);
    DrbdSource(const DrbdSource&) = delete;
    DrbdSource& operator=(const DrbdSource&) = delete;
    ~DrbdSource() override;

    std::string_view name() const override { return "drbd"; }
    std::string_view preset() const override { return "drbd"; }
    bool handles(const PathConfig& path) const override { return path.kind == PathKind::kDrbd; }
    // /dev/drbdN (major 147) of the resource's lowest volume; the heartbeat reads it.
    ResolvedDevice device_of(const PathConfig& path) override;
    // One path per resource, named "drbd-<resource>". Waits up to command_timeout for the
    // first statistics refresh (start-up and reload only).
    std::vector<PathConfig> discover(const PathPolicy& defaults) override;
    // DRBD's timeouts against the path's dead_after (drbd_startup_warnings). The options
    // are read before a new resource is published, so they are known once device_of()
    // succeeds; a resource whose `drbdsetup show` failed gets no warnings.
    std::vector<std::string> check(const PathConfig& path) override;
    std::map<std::string, StorageFacts> collect(const std::vector<PathConfig>& paths,
                                                TimePoint now) override;

  private:
    struct Shared;  // what the worker publishes, under `mutex`
    class Worker;

    void start();  // once; lazily

    Options options_;
    const Clock& clock_;
    std::shared_ptr<Shared> shared_;
    std::unique_ptr<Worker> worker_;
    std::once_flag started_;
    // Main-loop state: facts history and diskstats baselines.
    DrbdFacts facts_;
    std::map<dev_t, DiskstatsRecord> disks_;
};

}  // namespace iohealth
