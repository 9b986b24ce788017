#pragma once
// What iohealth needs from a resource's configuration, read from
// `drbdsetup show --show-defaults [RESOURCE]`: DRBD's own deadlines for a peer that stops
// answering, what it does on quorum loss and with a failed peer, the peer's address and the
// backing disk of each volume. Pure: the DRBD source runs drbdsetup and passes the text.
//
// The 8.4 layout has one implicit connection (resource-level net {} and _remote_host); DRBD 9
// has connection { _peer_node_id N; path { _remote_host ... } net { ... } } per peer.
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace iohealth {

// DRBD's defaults (8.4 and 9): a peer that does not complete a write within
// ko-count x timeout is dropped; one that does not answer a ping (sent after ping-int of
// silence) within ping-timeout is dropped too.
struct DrbdNetTimeouts {
    Duration timeout = std::chrono::seconds(6);
    int ko_count = 7;
    Duration ping_int = std::chrono::seconds(10);
    Duration ping_timeout = std::chrono::milliseconds(500);
    bool operator==(const DrbdNetTimeouts&) const = default;
};

struct DrbdPeerConfig {
    int peer_node_id = 0;  // 8.4: always 0, as events2 prints it
    std::string address;   // "127.0.0.1:7790" (the address family is left out)
    DrbdNetTimeouts net;
    bool operator==(const DrbdPeerConfig&) const = default;
};

struct DrbdVolumeConfig {
    int volume = 0;
    int minor = -1;
    std::string disk;  // backing disk, "/dev/dm-0"; "none" for a diskless client
    bool operator==(const DrbdVolumeConfig&) const = default;
};

struct DrbdResourceConfig {
    std::string name;
    std::vector<DrbdPeerConfig> peers;
    std::vector<DrbdVolumeConfig> volumes;
    std::string quorum = "off";         // DRBD 9: off, majority, all, N
    std::string on_no_quorum;           // DRBD 9: suspend-io, io-error; empty on 8.4
    std::string fencing = "dont-care";  // dont-care, resource-only, resource-and-stonith
    std::string on_io_error = "detach";
    Duration disk_timeout{0};  // 0: DRBD waits for its backing disk forever

    bool operator==(const DrbdResourceConfig&) const = default;
};

// Every `resource NAME { ... }` block of the text. Values iohealth does not know keep their
// defaults; a value that does not parse is reported in `errors` and left at its default.
std::vector<DrbdResourceConfig> parse_drbd_show(std::string_view text,
                                                std::vector<std::string>& errors);

}  // namespace iohealth
