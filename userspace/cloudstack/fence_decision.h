#pragma once
// Whether iohealthd carries out the CloudStack agent's heartbeat fence (`kvmheartbeat.sh -c`,
// `kvmspheartbeat.sh -c`, `kvmsmpheartbeat.sh -c`): the request names the pool whose heartbeat
// writes timed out; iohealth's evidence for that pool's path decides (docs/cloudstack.md).
//   mode not armed                          -> not-acting (the drop-in's fallback decides)
//   no path for the pool, or no evidence    -> fencing (the agent's request is the evidence)
//   a path STALLED or DEAD                  -> fencing (no progress within dead_after)
//   every path progressing (HEALTHY, CONTENDED, DEGRADED, RECOVERING)
//                                           -> declined: only the non-disruptive steps run;
//                                              the path's own ladder fences if it goes DEAD
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/classifier.h"
#include "core/mode.h"
#include "core/policy.h"

namespace iohealth {

// The storage a request is about, as the drop-in passes it (RequestHeartbeatFence details):
// "script", "server", "export", "mount" (NFS, SharedMountPoint), "resource" (DRBD resources
// of a Linstor pool, blank-separated).
struct HeartbeatPool {
    std::string script;
    std::string server;
    std::string export_path;
    std::string mount;
    std::vector<std::string> resources;
};
HeartbeatPool heartbeat_pool(const std::map<std::string, std::string>& details);
// "10.0.0.5:/export on /mnt/pool (kvmheartbeat.sh)".
std::string describe(const HeartbeatPool& pool);

// A monitored path as the last tick assessed it.
struct PathEvidence {
    std::string name;
    PathKind kind = PathKind::kDevice;
    std::string target;
    bool assessed = false;  // false: the target is not resolved or no tick has run yet
    Assessment assessment;
};

enum class FenceReply { kFencing, kDeclined, kNotActing };
std::string_view to_string(FenceReply r);

enum class FenceCase {
    kNoProgress,   // a path for the pool is STALLED or DEAD
    kNoPath,       // no monitored path is the pool's mount or resource
    kNoEvidence,   // the pool's paths have no assessment yet
    kProgressing,  // every path for the pool completes I/O
};

struct HeartbeatFenceDecision {
    FenceReply reply = FenceReply::kFencing;
    FenceCase evidence = FenceCase::kNoPath;  // what the evidence said, in every mode
    std::optional<PathEvidence> path;         // the path that decided, if any
    std::string detail;                       // one line for the caller and the journal
};

HeartbeatFenceDecision decide_heartbeat_fence(const HeartbeatPool& pool,
                                              const std::vector<PathEvidence>& paths,
                                              const EffectiveMode& mode);

}  // namespace iohealth
