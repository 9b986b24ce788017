#pragma once
// The peer model driven on real storage: KVMHAMonitor's loop on the steady clock, each write
// attempt a synchronous 4 KiB O_DIRECT write of `date +%s` to the last block of the device
// (what `echo $ts > hb-IP` is on the peer's sync,noac NFS mount: one synchronous write to the
// storage), each in its own thread as the agent runs each attempt as its own script: a hung
// one is abandoned at the timeout and the next attempt starts beside it.
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sidebyside/peer_outcome.h"

namespace iohealth::peer {

class PeerRunner {
  public:
    PeerRunner(PeerTimings timings, std::string device);
    ~PeerRunner();
    PeerRunner(const PeerRunner&) = delete;
    PeerRunner& operator=(const PeerRunner&) = delete;

    // Starts the loop now; `origin` is the fault's start (times are reported from it).
    void start(TimePoint origin);
    // Stops the loop and joins every write: heal the storage first (a hung write returns only
    // when the storage answers).
    PeerOutcome stop();

  private:
    void loop();
    void write_attempt(int write);

    const PeerTimings timings_;
    const std::string device_;
    int fd_ = -1;
    off_t offset_ = 0;
    TimePoint origin_{};
    SteadyClock clock_;

    std::mutex mutex_;  // everything below
    std::condition_variable wake_;
    bool stopping_ = false;
    std::unique_ptr<PeerModel> model_;
    std::unique_ptr<NeighbourWatch> neighbours_;
    struct Done {
        TimePoint at;
        bool ok;
        int write;
    };
    std::vector<Done> done_;
    std::vector<std::thread> writes_;
    std::thread thread_;
};

}  // namespace iohealth::peer
