#pragma once
// NFS mounts as the mount table lists them (/proc/self/mountinfo through libmount, which
// compares strings and never stat()s a mount: a hung NFS mount is never touched), their
// options, and the start-up check of the NFS client's own timeouts against the path's DEAD
// deadline.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace iohealth {

// The options of an NFS mount that decide how long its client waits (nfs(5)).
struct NfsMountOptions {
    bool soft = false;            // soft or softerr: I/O fails at the major timeout
    std::optional<int> timeo_ds;  // timeo, in deciseconds
    std::optional<int> retrans;
    std::string proto;        // tcp, udp, rdma
    std::string server_addr;  // addr=: the server's address the client resolved
    std::string vers;

    bool udp() const { return proto == "udp" || proto == "udp6"; }
    // The values in effect: nfs(5) defaults (TCP 600 and 2, UDP 11 and 3) when absent.
    int effective_timeo_ds() const { return timeo_ds.value_or(udp() ? 11 : 600); }
    int effective_retrans() const { return retrans.value_or(udp() ? 3 : 2); }
    // The first retry of a request: timeo after it was sent.
    Duration first_retry() const;
    // nfs(5), net/sunrpc/xprt.c xprt_calc_majortimeo(): after `retrans` retries the client
    // logs "server not responding" (hard) or fails the I/O (soft). Over TCP that is
    // timeo x (retrans + 1) after the request started; over UDP the wait doubles each time,
    // capped at 60 s.
    Duration major_timeout() const;
};

// Parses the superblock options of an NFS mount ("rw,vers=4.2,hard,timeo=600,..."). Unknown
// options are ignored; a malformed number is left unset (the default applies).
NfsMountOptions parse_nfs_options(std::string_view options);

struct NfsMount {
    std::string target;  // the mount point
    std::string source;  // "server:/export"
    std::string fstype;  // nfs, nfs4
    dev_t dev = 0;       // the superblock's major:minor (mountinfo field 3)
    NfsMountOptions options;
};

bool is_nfs_fstype(std::string_view fstype);

// The NFS mounts of a mountinfo file, in file order. Throws std::runtime_error naming the
// file when it cannot be read.
std::vector<NfsMount> list_nfs_mounts(const std::string& mountinfo = "/proc/self/mountinfo");

// The filesystem type mounted at `target` (the last mount there), if any: "nfs4", "ext4".
// Lexical match only. Throws std::runtime_error naming the file when it cannot be read.
std::optional<std::string> fstype_at(const std::string& target,
                                     const std::string& mountinfo = "/proc/self/mountinfo");

// The NFS mount at `target` (the last one mounted there), if any; lexical match only.
std::optional<NfsMount> find_nfs_mount(const std::vector<NfsMount>& mounts,
                                       const std::string& target);

struct NfsTimeoutCheck {
    std::string summary;                // the client's timeouts next to dead_after, for the log
    std::vector<std::string> warnings;  // empty: they fit
};

// The start-up check of one NFS path. Warns when
//  - the mount is soft: the client fails I/O at its major timeout and guests see EIO (a hard
//    mount waits, and iohealthd alone decides);
//  - timeo >= dead_after: a request the server lost (a dropped connection, a server failover)
//    is sent again only after timeo, so iohealthd fences before the client has retried once.
NfsTimeoutCheck check_nfs_timeouts(const NfsMount& mount, Duration dead_after);

}  // namespace iohealth
