#include "sources/drbd/drbd_startup_check.h"

#include <fmt/format.h>

#include "sources/drbd/drbd_facts.h"

namespace iohealth {

std::vector<std::string> drbd_startup_warnings(const PathConfig& path,
                                               const DrbdResourceConfig& config) {
    std::vector<std::string> out;
    const Duration dead_after = path.policy.timings.dead_after;
    const std::string who = fmt::format("path '{}' (DRBD resource {})", path.name, config.name);
    const std::string dead = format_duration(dead_after);
    for (const auto& peer : config.peers) {
        const Duration give_up = drbd_peer_give_up(peer.net);
        if (give_up <= dead_after) continue;
        out.push_back(fmt::format(
            "{}: DRBD drops a peer {} that stops acknowledging writes only after {} = {}, later "
            "than dead_after {}; DEAD is held while the writes are seen waiting on that link, but "
            "if the heartbeat stalls too iohealth fences before DRBD gives up (make ko-count x "
            "timeout shorter than dead_after)",
            who, peer.address.empty() ? std::to_string(peer.peer_node_id) : peer.address,
            drbd_peer_give_up_rule(peer.net), format_duration(give_up), dead));
    }
    if (config.quorum != "off" && config.on_no_quorum == "suspend-io")
        out.push_back(fmt::format(
            "{}: on-no-quorum suspend-io freezes I/O without quorum and DRBD never ends that "
            "wait: iohealth fences after dead_after {} (on-no-quorum io-error fails the I/O "
            "instead)",
            who, dead));
    if (config.fencing == "resource-and-stonith")
        out.push_back(fmt::format(
            "{}: fencing resource-and-stonith suspends I/O until the fence-peer handler returns; "
            "a handler slower than dead_after {} lets iohealth fence this host first",
            who, dead));
    if (config.disk_timeout > dead_after)
        out.push_back(fmt::format(
            "{}: disk-timeout {} is later than dead_after {}: iohealth fences before DRBD "
            "detaches a hung backing disk",
            who, format_duration(config.disk_timeout), dead));
    return out;
}

}  // namespace iohealth
