#include "sources/drbd/drbd_facts.h"

#include <algorithm>

#include <fmt/format.h>

namespace iohealth {
namespace {

bool resyncing(const DrbdPeerDevice& pd) {
    return pd.replication == "SyncSource" || pd.replication == "SyncTarget";
}

// Connection states in which the peer cannot answer (yet); StandAlone is a decision, not a
// wait: DRBD writes locally then.
bool link_down(const std::string& state) {
    return !state.empty() && state != "Connected" && state != "StandAlone";
}

const DrbdPeerConfig* peer_config(const DrbdResourceConfig* config, int peer) {
    if (!config) return nullptr;
    for (const auto& p : config->peers)
        if (p.peer_node_id == peer) return &p;
    return config->peers.size() == 1 ? &config->peers[0] : nullptr;
}

// The peer whose answers the resource's writes wait for, or nullopt.
std::optional<int> awaited_peer(const DrbdResource& r) {
    for (const auto& [key, pd] : r.peer_devices)
        if (pd.pending + pd.unacked > 0) return key.first;
    for (const auto& [peer, c] : r.connections)
        if (link_down(c.state)) return peer;
    return std::nullopt;
}

std::string peer_name(const DrbdResource& r, const DrbdResourceConfig* config, int peer) {
    if (const auto* p = peer_config(config, peer); p && !p->address.empty()) return p->address;
    if (const auto c = r.connections.find(peer); c != r.connections.end()) {
        if (!c->second.peer_address.empty()) return c->second.peer_address;
        if (!c->second.name.empty()) return "peer " + c->second.name;
    }
    return fmt::format("peer node {}", peer);
}

std::string summary(const DrbdResource& r) {
    std::string disks;
    for (const auto& [volume, d] : r.devices) {
        if (!disks.empty()) disks += ",";
        disks += d.disk;
    }
    std::string s = fmt::format("DRBD {} {}", r.role, disks);
    for (const auto& [peer, c] : r.connections) {
        s += fmt::format(", peer {} {}", c.name.empty() ? std::to_string(peer) : c.name, c.state);
        for (const auto& [key, pd] : r.peer_devices) {
            if (key.first != peer) continue;
            s += fmt::format(" {} {}", pd.replication, pd.peer_disk);
            if (resyncing(pd) && pd.out_of_sync) s += fmt::format(" oos {}KiB", *pd.out_of_sync);
            if (resyncing(pd) && pd.done) s += fmt::format(" {:.1f}%", *pd.done);
        }
    }
    bool peer_has_data = false;
    for (const auto& [key, pd] : r.peer_devices) {
        const auto c = r.connections.find(key.first);
        if (pd.peer_disk == "UpToDate" && c != r.connections.end() &&
            c->second.state == "Connected")
            peer_has_data = true;
    }
    for (const auto& [volume, d] : r.devices)
        if (d.disk == "Diskless")
            return s + (peer_has_data ? " (no local disk: I/O goes to the peer)"
                                      : " (no local disk, no peer with the data: I/O fails)");
    return s;
}

}  // namespace

DrbdProgress progress_of(const DrbdResource& r, TimePoint at) {
    DrbdProgress p;
    p.at = at;
    for (const auto& [key, pd] : r.peer_devices) {
        if (!resyncing(pd)) continue;
        p.resyncing = true;
        p.out_of_sync += pd.out_of_sync.value_or(0);
        if (pd.done) p.done = std::max(p.done.value_or(0.0), *pd.done);
    }
    return p;
}

Duration drbd_peer_give_up(const DrbdNetTimeouts& net) {
    return net.ko_count > 0 ? net.ko_count * net.timeout : net.ping_int + net.ping_timeout;
}

std::string drbd_peer_give_up_rule(const DrbdNetTimeouts& net) {
    const Duration ping = net.ping_int + net.ping_timeout;
    const std::string ping_rule =
        fmt::format("ping-int {} + ping-timeout {}", format_duration(net.ping_int),
                    format_duration(net.ping_timeout));
    if (net.ko_count == 0)
        return fmt::format("{} (ko-count 0: a peer that answers pings is never dropped)",
                           ping_rule);
    const std::string ko =
        fmt::format("ko-count {} x timeout {}", net.ko_count, format_duration(net.timeout));
    return ping < net.ko_count * net.timeout
               ? fmt::format("{} (a silent peer sooner: {})", ko, ping_rule)
               : ko;
}

StorageFacts DrbdFacts::update(const std::string& resource, const DrbdTick& tick, TimePoint now) {
    StorageFacts f;
    if (!tick.state) {
        writes_stuck_since_.erase(resource);
        f.note = tick.unavailable.empty() ? fmt::format("DRBD resource {} does not exist", resource)
                                          : fmt::format("no DRBD state: {}", tick.unavailable);
        return f;
    }
    const DrbdResource& r = *tick.state;
    const bool fresh = tick.state_at && now - *tick.state_at <= stale_after_;

    f.io_suspended = r.io_suspended();
    if (f.io_suspended) f.suspended_reason = r.suspended;
    for (const auto& [volume, d] : r.devices)
        if (d.quorum == false) f.quorum_lost = true;
    for (const auto& [key, pd] : r.peer_devices)
        if (resyncing(pd)) f.resync_active = true;
    if (tick.previous && tick.latest && tick.latest->resyncing &&
        now - tick.latest->at <= stale_after_) {
        const auto& a = *tick.previous;
        const auto& b = *tick.latest;
        f.resync_advancing = (a.resyncing && b.out_of_sync < a.out_of_sync) ||
                             (a.done && b.done && *b.done > *a.done);
    }

    // Writes stuck in DRBD while the backing disk owes nothing: they wait on the peer. The
    // statistics must be read after the writes stopped completing: a snapshot from before
    // (a write pending on the peer as every protocol C write briefly is) proves nothing.
    const bool stuck = tick.device && tick.device->in_flight > 0 && tick.device->writes == 0;
    if (!stuck) writes_stuck_since_.erase(resource);
    const TimePoint since =
        stuck ? writes_stuck_since_.try_emplace(resource, now).first->second : TimePoint::max();
    std::uint64_t upper = 0, lower = 0;
    for (const auto& [volume, d] : r.devices) {
        upper += d.upper_pending;
        lower += d.lower_pending;
    }
    const auto peer = awaited_peer(r);
    if (stuck && fresh && *tick.state_at > since && !f.io_suspended && upper > 0 && lower == 0 &&
        peer) {
        const auto* pc = peer_config(tick.config, *peer);
        const DrbdNetTimeouts net = pc ? pc->net : DrbdNetTimeouts{};
        f.waiting_on =
            fmt::format("replication link {} to {}", resource, peer_name(r, tick.config, *peer));
        // From the first tick without a write completion: no earlier than DRBD's own start
        // (its oldest unacknowledged write), so never a deadline DRBD has not reached yet.
        f.lower_layer_deadline = since + drbd_peer_give_up(net);
        f.lower_layer_rule = drbd_peer_give_up_rule(net);
    }

    f.note = summary(r);
    if (fresh && (upper > 0 || lower > 0))
        f.note += fmt::format("; upper-pending {} lower-pending {}", upper, lower);
    if (tick.backing)
        f.note += fmt::format("; backing {}: {} done, {} in flight", tick.backing_name,
                              tick.backing->completed, tick.backing->in_flight);
    return f;
}

}  // namespace iohealth
