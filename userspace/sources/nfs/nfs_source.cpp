#include "sources/nfs/nfs_source.h"

#include <spdlog/spdlog.h>

#include <fmt/format.h>
#include <algorithm>
#include <fstream>
#include <sstream>

#include "sources/block/diskstats_source.h"
#include "sources/bpf/bpf_block_devices.h"
#include "sources/nfs/nfs_probes.h"

namespace iohealth {
namespace {

constexpr Duration kProbeRetry = std::chrono::seconds(5);

std::string path_name(const std::string& target) {
    std::string name = "nfs";
    for (const char c : target) {
        if (c == '/')
            name += '-';
        else if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')
            name += c;
        else
            name += '_';
    }
    return target == "/" ? "nfs-root" : name;
}

std::string server_of(const NfsMount& m) {
    if (!m.options.server_addr.empty()) return m.options.server_addr;
    return m.source.substr(0, m.source.rfind(':'));
}

}  // namespace

NfsSource::NfsSource(Options options) : options_(std::move(options)) {
    if (!options_.probes) probes_reason_ = "BPF disabled by configuration (--no-bpf)";
}

NfsSource::~NfsSource() = default;

std::vector<NfsMount> NfsSource::read_mounts() const {
    return list_nfs_mounts(options_.mountinfo);
}

void NfsSource::warn_once(const std::string& message) {
    if (warned_.insert(message).second) spdlog::warn("{}", message);
}

bool NfsSource::handles(const PathConfig& path) const {
    if (path.kind != PathKind::kMount) return false;
    try {
        const auto fstype = fstype_at(path.target, options_.mountinfo);
        if (fstype) return is_nfs_fstype(*fstype);
    } catch (const std::exception&) {
        // The mount table is unreadable: decide by the preset alone.
    }
    return path.preset == "nfs";
}

ResolvedDevice NfsSource::device_of(const PathConfig& path) {
    const auto mount = find_nfs_mount(read_mounts(), path.target);
    if (!mount) {
        const auto fstype = fstype_at(path.target, options_.mountinfo);
        throw std::runtime_error(
            fstype ? fmt::format("{} is a {} mount, not NFS", path.target, *fstype)
                   : fmt::format("{} is not mounted (yet)", path.target));
    }
    return {mount->dev, {}};
}

std::vector<PathConfig> NfsSource::discover(const PathPolicy& defaults) {
    std::vector<PathConfig> paths;
    std::vector<NfsMount> mounts;
    try {
        mounts = read_mounts();
    } catch (const std::exception& e) {
        spdlog::warn("NFS discovery: {}; no NFS mount discovered", e.what());
        return paths;
    }
    std::set<std::string> targets;
    for (const auto& m : mounts) {
        if (!targets.insert(m.target).second) continue;  // mounted over: watched once
        PathConfig p;
        p.name = path_name(m.target);
        p.kind = PathKind::kMount;
        p.target = m.target;
        p.preset = "nfs";
        p.policy = defaults;
        paths.push_back(std::move(p));
    }
    return paths;
}

std::vector<std::string> NfsSource::check(const PathConfig& path) {
    const auto mount = find_nfs_mount(read_mounts(), path.target);
    if (!mount) return {};
    const auto c = check_nfs_timeouts(*mount, path.policy.timings.dead_after);
    spdlog::info("Path '{}': {}", path.name, c.summary);
    return c.warnings;
}

void NfsSource::set_devices(const std::vector<dev_t>& devices) {
    devices_ = std::set<dev_t>(devices.begin(), devices.end());
}

void NfsSource::try_load_probes(TimePoint now) {
    if (probes_ || !options_.probes) return;
    if (next_probe_attempt_ && now < *next_probe_attempt_) return;
    next_probe_attempt_ = now + kProbeRetry;
    auto made = NfsProbes::make(options_.btf_dir);
    if (made) {
        probes_ = std::move(*made);
        probes_reason_.clear();
        spdlog::info("NFS evidence: eBPF probes on nfs.ko and sunrpc.ko");
        // Counters of the probes start at zero: every mount takes a new baseline.
        for (auto& [dev, st] : state_) st.seen = false;
        first_transport_reading_ = true;
        return;
    }
    if (made.error() != probes_reason_)
        spdlog::info(
            "NFS evidence: /proc/self/mountstats (eBPF probes not loaded: {}; retrying "
            "every {})",
            made.error(), format_duration(kProbeRetry));
    probes_reason_ = made.error();
}

void NfsSource::refresh(TimePoint now) {
    if (refreshed_at_ == now) return;
    refreshed_at_ = now;
    try {
        mounts_ = read_mounts();
    } catch (const std::exception& e) {
        warn_once(fmt::format("NFS source: {}; NFS paths get no evidence", e.what()));
        mounts_.clear();
    }
    if (mounts_.empty() && devices_.empty()) return;
    try_load_probes(now);

    // mountstats every tick: the evidence without probes, the cross-check of replies with them.
    std::ostringstream text;
    if (std::ifstream in(options_.mountstats); in)
        text << in.rdbuf();
    else
        warn_once(fmt::format("NFS source: cannot read {}", options_.mountstats));
    const auto parsed = parse_mountstats(text.str());
    for (const auto& line : parsed.skipped)
        warn_once(fmt::format("NFS source: unexpected line in {}, ignoring: '{}'",
                              options_.mountstats, line));

    const std::uint64_t now_ns = ktime_ns(now);
    std::optional<NfsReading> reading;
    if (probes_) reading = probes_->read(previous_reading_ns_.value_or(0));
    const Duration since_previous{
        static_cast<std::int64_t>((now_ns - previous_reading_ns_.value_or(now_ns)) / 1000)};
    previous_reading_ns_ = now_ns;

    // Per transport: what happened since the last reading.
    std::map<std::uint64_t, NfsTransportCounters> transport_delta;
    if (reading) {
        for (const auto& [id, cur] : reading->transports) {
            NfsTransportCounters d = cur;
            d.replies = d.major_timeouts = d.retransmits = 0;
            const auto prev = transports_.find(id);
            if (!first_transport_reading_) {
                // A transport first seen now (or a pointer reused for another server) is new:
                // all of its counts happened since the last reading.
                const bool known = prev != transports_.end() && prev->second.server == cur.server;
                const NfsTransportCounters base = known ? prev->second : NfsTransportCounters{};
                d.replies = counter_delta(base.replies, cur.replies, 64);
                d.major_timeouts = counter_delta(base.major_timeouts, cur.major_timeouts, 64);
                d.retransmits = counter_delta(base.retransmits, cur.retransmits, 64);
            }
            transport_delta[id] = d;
        }
        transports_ = reading->transports;
        first_transport_reading_ = false;
    }

    std::set<dev_t> present;
    for (const auto& m : mounts_) {
        if (!present.insert(m.dev).second) continue;
        MountState& st = state_[m.dev];
        const NfsMountStats* stats = nullptr;
        for (const auto& s : parsed.mounts)
            if (s.mount_point == m.target) stats = &s;
        const std::string server = server_of(m);

        NfsTransportTick t;
        t.baseline = !st.seen;
        // mountstats' transport line: replies received (the cross-check), and the estimate of
        // RPCs outstanding when there are no probes.
        std::uint64_t recvs = 0;
        if (stats && stats->xprt && st.stats && st.stats->xprt) {
            const auto& prev = *st.stats->xprt;
            const auto& cur = *stats->xprt;
            recvs = counter_delta(prev.recvs, cur.recvs, 64);
            st.unanswered.update(prev, cur);
        }
        if (recvs > 0) st.last_reply = now;

        if (reading) {
            NfsInFlight waiting;
            for (const auto& [id, d] : transport_delta) {
                if (d.server != server) continue;
                t.replies += d.replies;
                t.major_timeouts += d.major_timeouts;
                t.retransmits += d.retransmits;
                if (d.last_reply_ns != 0) {
                    const auto at = from_usec(static_cast<std::int64_t>(d.last_reply_ns / 1000));
                    t.last_reply = t.last_reply ? std::max(*t.last_reply, at) : at;
                }
                if (const auto f = reading->rpcs_in_flight.find(id);
                    f != reading->rpcs_in_flight.end()) {
                    waiting.oldest_start_ns =
                        waiting.count == 0
                            ? f->second.oldest_start_ns
                            : std::min(waiting.oldest_start_ns, f->second.oldest_start_ns);
                    waiting.count += f->second.count;
                }
            }
            const auto kdev = kernel_dev(m.dev);
            const auto cur_it = reading->mounts.find(kdev);
            const NfsMountCounters cur =
                cur_it != reading->mounts.end() ? cur_it->second : NfsMountCounters{};
            const auto data_it = reading->data_in_flight.find(kdev);
            const NfsInFlight data =
                data_it != reading->data_in_flight.end() ? data_it->second : NfsInFlight{};
            st.evidence = nfs_evidence_from_probes(st.seen ? st.probe_counters : cur, cur, data,
                                                   waiting, now_ns);
            st.probe_counters = cur;
            // Waiting: outstanding since before the previous reading, not merely in progress.
            const auto age = st.evidence.oldest_in_flight_age.value_or(Duration{0});
            if (st.evidence.in_flight > 0 && age >= since_previous) {
                t.waiting = st.evidence.in_flight;
                t.oldest_wait = age;
            }
        } else if (stats) {
            st.evidence = nfs_evidence_from_mountstats(st.stats.value_or(*stats), *stats,
                                                       st.unanswered.value());
            t.waiting = st.unanswered.value();
        } else {
            st.evidence = KernelEvidence{};
        }
        // The cross-check: a reply either witness saw is a reply.
        t.replies = std::max(t.replies, recvs);
        if (!t.last_reply) t.last_reply = st.last_reply;
        st.facts = nfs_facts(server, t, now);
        if (stats) st.stats = *stats;
        st.seen = true;
    }
    // Unmounted: forget (a new mount may reuse the device number).
    for (auto it = state_.begin(); it != state_.end();) {
        if (present.contains(it->first)) {
            ++it;
            continue;
        }
        if (probes_) probes_->forget_mount(kernel_dev(it->first));
        it = state_.erase(it);
    }
}

std::map<dev_t, KernelEvidence> NfsSource::collect(TimePoint now) {
    refresh(now);
    std::map<dev_t, KernelEvidence> out;
    for (const dev_t d : devices_)
        if (const auto it = state_.find(d); it != state_.end()) out[d] = it->second.evidence;
    return out;
}

std::map<std::string, StorageFacts> NfsSource::collect(const std::vector<PathConfig>& paths,
                                                       TimePoint now) {
    refresh(now);
    std::map<std::string, StorageFacts> out;
    for (const auto& p : paths) {
        const auto mount = find_nfs_mount(mounts_, p.target);
        if (!mount) continue;
        if (const auto it = state_.find(mount->dev); it != state_.end())
            out[p.name] = it->second.facts;
    }
    return out;
}

}  // namespace iohealth
