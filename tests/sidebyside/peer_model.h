#pragma once
// An executable model of the peer: Apache CloudStack's KVM storage heartbeat, as its sources
// have it (apache/cloudstack KVMHAMonitor.run / runHeartBeat / executePoolHeartBeatCommand,
// Script timeouts, scripts/vm/hypervisor/kvm/kvmheartbeat.sh -c and -r). One pool.
//
// Writer (the agent on this host), per round:
//   attempt 1..max_tries: run the write script, bounded by write_timeout;
//     success -> the round ends;
//     failure (an error, or the timeout) -> "try i of n", then sleep retry_sleep (after the
//     last attempt too);
//   after max_tries failures: when reboot_on_timeout, run `kvmheartbeat.sh -c` (the fence;
//     with the stock script the host resets fence_delay later: `sync &; sleep 5; echo b`);
//   either way the round ends: sleep update_frequency and start the next round (the agent
//   keeps its loop after -c). The failure count is per round.
// Reader (a neighbour): `-r -t update_frequency/1000`: DEAD iff (its `date +%s`) - (the
//   `date +%s` in the file) > t. The file's stamp is taken when the write script starts,
//   before the write: a slow write is read as old as its start.
//
// Pure: the caller hands it `now` and the outcome of each write, like the classifier; it is
// tested in virtual time and driven on real storage by peer_runner.h.
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"

namespace iohealth::peer {

using namespace std::chrono_literals;

struct PeerTimings {
    Duration update_frequency = 60s;  // kvm.heartbeat.update.frequency
    Duration write_timeout = 60s;     // heartbeat.update.timeout
    int max_tries = 5;                // kvm.heartbeat.update.max.tries
    Duration retry_sleep = 10s;       // kvm.heartbeat.update.retry.sleep
    Duration fence_delay = 5s;        // `sleep 5` in the fence before sysrq
    bool reboot_on_timeout = true;    // reboot.host.and.alert.management.on.heartbeat.timeout
    // Every duration times `factor` (the side-by-side scales both sides alike).
    PeerTimings scaled(double factor) const;
};

enum class PeerStep {
    kNone,
    kStartWrite,  // the runner starts one write attempt now and reports it with write_done()
    kFence,       // `kvmheartbeat.sh -c` runs now
};

class PeerModel {
  public:
    PeerModel(PeerTimings timings, TimePoint start);

    // Moves the loop to `now` (sleeps end, an attempt times out) and says what to do now.
    // Call it until it returns kNone, at next_wakeup() and after write_done().
    PeerStep advance(TimePoint now);
    // When advance() has something to do next without a write_done().
    std::optional<TimePoint> next_wakeup() const;
    // Write number `write` (writes_started() when it began) finished at `now`; ignored unless
    // it is the attempt the loop still waits for (a timed-out script is abandoned).
    void write_done(TimePoint now, bool ok, int write);
    int writes_started() const { return writes_started_; }

    // The neighbours' check at `now`, with whole-second clocks as in the script.
    bool reader_says_dead(TimePoint now) const;
    // When a neighbour's check first reads DEAD, if nothing is written after `now`.
    std::optional<TimePoint> reader_dead_from() const;

    std::optional<TimePoint> fenced_at() const { return fenced_at_; }  // the first -c
    int fences() const { return fences_; }                             // -c runs so far
    std::optional<TimePoint> reset_at() const;                         // sysrq
    std::optional<TimePoint> last_success() const { return last_success_; }
    const PeerTimings& timings() const { return t_; }
    // The agent's log lines, "<seconds since start> <text>".
    const std::vector<std::string>& log() const { return log_; }

  private:
    enum class State { kRoundSleep, kWriting, kRetrySleep };
    void fail_attempt(TimePoint now, const std::string& reason);
    void note(TimePoint now, const std::string& text);

    PeerTimings t_;
    TimePoint start_;
    State state_ = State::kRoundSleep;
    TimePoint wake_at_;  // kRoundSleep, kRetrySleep: the end of the sleep; kWriting: the timeout
    int attempt_ = 0;    // 1-based within the round
    int writes_started_ = 0;
    TimePoint attempt_started_;
    std::optional<TimePoint> last_success_;
    std::optional<TimePoint> last_stamp_;  // the `date +%s` of the last successful write
    std::optional<TimePoint> fenced_at_;
    int fences_ = 0;
    std::vector<std::string> log_;
};

}  // namespace iohealth::peer
