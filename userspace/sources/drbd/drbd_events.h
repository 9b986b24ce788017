#pragma once
// `drbdsetup events2 [--now] [--statistics]` lines and the per-resource state they describe.
// Pure: no processes, no clocks; the DRBD source feeds it text.
//
// A line is "[TIMESTAMP ]ACTION OBJECT key:value ...", for example
//   exists device name:r0 volume:0 minor:0 disk:UpToDate upper-pending:0 lower-pending:0
//   change peer-device name:r0 peer-node-id:0 volume:0 replication:SyncSource out-of-sync:52840
// ACTION is exists (the initial dump), create, change (only the fields that changed),
// destroy, call or response (a handler ran); OBJECT is resource, connection, device,
// peer-device, path (DRBD 9) or helper. "exists -" ends the initial dump. Both the 8.4 module
// (through drbd-utils 9's drbdsetup-84) and DRBD 9 print this format; 8.4 has no quorum,
// done or path fields.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iohealth {

struct DrbdEvent {
    enum class Action { kExists, kCreate, kChange, kDestroy, kCall, kResponse };
    enum class Object { kResource, kConnection, kDevice, kPeerDevice, kPath, kHelper, kEndOfDump };
    Action action = Action::kExists;
    Object object = Object::kResource;
    std::map<std::string, std::string, std::less<>> fields;
};

// One line; nullopt and `error` ("unknown action 'x'", "field 'foo' has no ':'") otherwise.
// A leading --timestamps stamp is skipped.
std::optional<DrbdEvent> parse_drbd_event(std::string_view line, std::string& error);

struct DrbdConnection {
    std::string name;          // conn-name (DRBD 9 peer host name; "peer" on 8.4)
    std::string state;         // connection: Connected, Connecting, StandAlone, NetworkFailure...
    std::string peer_role;     // role: Primary, Secondary, Unknown
    std::string peer_address;  // from a DRBD 9 path line ("ipv4:10.0.0.2:7789"), else empty
    bool congested = false;
};

struct DrbdDevice {
    int minor = -1;
    std::string disk;                 // disk: UpToDate, Inconsistent, Diskless, Failed...
    std::optional<bool> quorum;       // DRBD 9 only
    std::uint64_t upper_pending = 0;  // application requests inside DRBD
    std::uint64_t lower_pending = 0;  // requests DRBD has outstanding on its backing disk
    std::string blocked;              // no, upper, lower
};

struct DrbdPeerDevice {
    std::string replication;  // Established, SyncSource, SyncTarget, Off, PausedSyncS...
    std::string peer_disk;
    std::optional<std::uint64_t> out_of_sync;  // KiB still to resync (statistics)
    std::optional<double> done;                // percent of the resync done (DRBD 9)
    std::uint64_t pending = 0;                 // requests sent to the peer, not yet answered
    std::uint64_t unacked = 0;                 // peer requests this side has not answered
    std::uint64_t sent = 0;                    // KiB sent to the peer
    // Why the resync is paused, as drbd-utils prints it (resync_susp_str): "no", or any of
    // user, peer, dependency, max-parallel joined by commas ("user,dependency"; max-parallel,
    // waiting for a resync slot, only from newer DRBD 9 releases).
    struct ResyncSuspended {
        bool user = false;
        bool peer = false;
        bool dependency = false;
        bool max_parallel = false;
        bool any() const { return user || peer || dependency || max_parallel; }
        bool operator==(const ResyncSuspended&) const = default;
    };
    ResyncSuspended resync_suspended;
};

struct DrbdResource {
    std::string role;  // Primary, Secondary
    // "no", or the reasons I/O is suspended: user, no-data, fencing, quorum (comma-joined).
    std::string suspended = "no";
    std::map<int, DrbdConnection> connections;                   // by peer-node-id
    std::map<int, DrbdDevice> devices;                           // by volume
    std::map<std::pair<int, int>, DrbdPeerDevice> peer_devices;  // by (peer-node-id, volume)

    bool io_suspended() const { return !suspended.empty() && suspended != "no"; }
};

// The state of every resource, built from events.
class DrbdState {
  public:
    // Applies one event. A field that does not parse (a count that is not a number) is left
    // as it was and reported in `error`; the rest of the event still applies.
    void apply(const DrbdEvent& event, std::string& error);
    // Applies every line of `text`; returns the errors, one per odd line.
    std::vector<std::string> apply_text(std::string_view text);

    const std::map<std::string, DrbdResource, std::less<>>& resources() const { return resources_; }
    // True once "exists -" was seen: the initial dump (or the whole --now output) is in.
    bool complete() const { return complete_; }

  private:
    std::map<std::string, DrbdResource, std::less<>> resources_;
    bool complete_ = false;
};

}  // namespace iohealth
