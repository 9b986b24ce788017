#pragma once
// The CloudStack agent's side of the chained side-by-side: each heartbeat write attempt and
// the fence run the real drop-in script (contrib/cloudstack/kvmheartbeat.sh) with the flags
// KVMHAMonitor passes (`-i <server> -p <export> -m <mount> -h <host ip>`, then `-c` for the
// fence), as the agent's Script runs it: a write that outlives the agent's timeout gets
// SIGTERM (Java's Process.destroy) and is abandoned; it is reaped once the storage answers.
#include <mutex>
#include <string>
#include <vector>

#include "sidebyside/peer_runner.h"

namespace iohealth::sidebyside {

struct DropinAgentOptions {
    std::string script;                  // the drop-in, e.g. .../kvmheartbeat.sh
    std::vector<std::string> pool_args;  // -i IP -p EXPORT -m MOUNT -h HOST
    std::vector<std::string> env;        // NAME=VALUE over the inherited environment
    Duration write_timeout{};            // heartbeat.update.timeout
};

// One `-c` the agent ran: when (CLOCK_MONOTONIC seconds), and what the script gave back.
struct FenceCall {
    double at = 0;
    double ended = 0;
    int exit = -1;  // -1: did not exit normally
    std::string out;
};

class DropinAgent : public peer::PeerStorage {
  public:
    explicit DropinAgent(DropinAgentOptions options);
    bool write() override;
    // Runs `-c` and waits for it; the agent keeps its loop (the fence is iohealthd's).
    bool fence() override;
    std::vector<FenceCall> fences() const;
    int writes() const;

  private:
    DropinAgentOptions o_;
    mutable std::mutex mutex_;
    std::vector<FenceCall> fences_;
    int writes_ = 0;
};

}  // namespace iohealth::sidebyside
