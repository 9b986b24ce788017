#pragma once
// The peer model driven on real storage: KVMHAMonitor's loop on the steady clock. What one
// write attempt and the fence are is the caller's (PeerStorage): a synchronous O_DIRECT write
// to a device (BlockDeviceHeartbeat, below), or the real drop-in script (dropin_agent.h). Each
// attempt runs in its own thread, as the agent runs each attempt as its own script: a hung one
// is abandoned at the timeout and the next attempt starts beside it.
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sidebyside/peer_outcome.h"

namespace iohealth::peer {

// One write attempt and the fence (-c) on some storage.
class PeerStorage {
  public:
    virtual ~PeerStorage() = default;
    // Blocks until the attempt ends (a hung one: until the storage answers); true: written.
    // Called from several threads at once.
    virtual bool write() = 0;
    // The agent's -c; true when the host resets (its agent writes no more).
    virtual bool fence() = 0;
};

// What `echo $ts > hb-IP` is on the peer's sync,noac NFS mount: one synchronous 4 KiB
// O_DIRECT write of `date +%s` to the last block of the device. Its fence is the stock one:
// the host resets.
class BlockDeviceHeartbeat : public PeerStorage {
  public:
    explicit BlockDeviceHeartbeat(const std::string& device);
    ~BlockDeviceHeartbeat() override;
    BlockDeviceHeartbeat(const BlockDeviceHeartbeat&) = delete;
    BlockDeviceHeartbeat& operator=(const BlockDeviceHeartbeat&) = delete;
    bool write() override;
    bool fence() override { return true; }

  private:
    int fd_ = -1;
    off_t offset_ = 0;
};

class PeerRunner {
  public:
    PeerRunner(PeerTimings timings, PeerStorage& storage);
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
    PeerStorage& storage_;
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
