#pragma once
// /proc/self/mountstats, the NFS client's own per-mount counters (net/sunrpc/stats.c and
// fs/nfs/super.c nfs_show_stats): the cross-check of the NFS probes and the whole of the NFS
// kernel evidence when they cannot load.
//
// Caveat: the per-op counters (and `timeouts`) move only when an RPC completes. A hung server
// shows as nothing happening; what moves is the transport line: `sends` without `recvs`.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iohealth {

// One "OP: ..." line of "per-op statistics" (RPC iostats version 1.0 has no `errors`).
struct NfsOpStats {
    std::uint64_t ops = 0;       // RPCs of this op completed
    std::uint64_t ntrans = 0;    // transmissions: ntrans - ops are retransmits
    std::uint64_t timeouts = 0;  // major timeouts, counted when the RPC completes
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_recv = 0;
    std::uint64_t queue_ms = 0;    // summed: time queued before transmission
    std::uint64_t rtt_ms = 0;      // summed: transmission to reply
    std::uint64_t execute_ms = 0;  // summed: start to completion
    std::uint64_t errors = 0;      // RPCs that completed with an error (1.1)
};

// The "xprt:" lines of a mount, summed (nconnect gives one per transport).
struct NfsXprtStats {
    std::string proto;  // tcp, udp, rdma, local
    int transports = 0;
    std::uint64_t connect_count = 0;  // 0 for udp
    std::uint64_t sends = 0;          // transmissions, retransmits included
    std::uint64_t recvs = 0;          // replies matched to a request
    std::uint64_t bad_xids = 0;       // replies to no request the client knows
    std::uint64_t backlog_u = 0;      // summed backlog queue length at each send
};

struct NfsMountStats {
    std::string device;       // "server:/export"
    std::string mount_point;  // unescaped ("\040" -> " ")
    std::string fstype;       // nfs, nfs4
    std::string options;      // the opts: line
    std::uint64_t age_s = 0;
    std::optional<NfsXprtStats> xprt;       // absent before the first transport connects
    std::map<std::string, NfsOpStats> ops;  // by op name ("READ", "WRITE", ...)
};

struct MountstatsParse {
    std::vector<NfsMountStats> mounts;  // NFS mounts only, in file order
    std::vector<std::string> skipped;   // lines that did not parse, verbatim
};

// Parses the text of /proc/self/mountstats. Never throws; odd lines go to `skipped`.
MountstatsParse parse_mountstats(std::string_view text);

// The data ops of a mount summed: READ, READ_PLUS, WRITE, COMMIT.
NfsOpStats data_op_totals(const NfsMountStats& m);

// "/mnt/a\040b" -> "/mnt/a b": the kernel's seq_escape of mount points and devices.
std::string unescape_mount_field(std::string_view field);

}  // namespace iohealth
