#include "daemon/paths.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "record/json.h"
#include "sources/block/block_devices.h"

namespace iohealth {
namespace {

// Unresolved devices are looked for again this often: a disk may appear after start-up.
constexpr Duration kResolveInterval = 5s;

StorageSource* owner_of(const PathConfig& path, const StorageSources& sources) {
    for (const auto& s : sources)
        if (s->handles(path)) return s.get();
    return nullptr;
}

bool probe_cannot_run(const HeartbeatEvidence& hb) {
    return hb.last_failed && !hb.last_success &&
           (hb.last_error.starts_with("open: EPERM") || hb.last_error.starts_with("open: EACCES"));
}

bool same_path(const PathConfig& a, const PathConfig& b) {
    return a.name == b.name && to_json(a) == to_json(b);
}

// With no [path] sections: DRBD resources and NFS mounts their sources find, then the
// disks no such path already stands for (a DRBD device is watched as its resource).
std::vector<PathConfig> effective_paths(const DaemonConfig& config, const StorageSources& sources) {
    if (!config.paths.empty() || !config.discover_block_devices) return config.paths;
    std::vector<PathConfig> paths;
    std::vector<dev_t> covered;
    for (const auto& source : sources) {
        const auto policy = config.preset_defaults.find(source->preset());
        for (auto& p : source->discover(policy != config.preset_defaults.end() ? policy->second
                                                                               : config.defaults)) {
            try {
                covered.push_back(source->device_of(p).dev);
            } catch (const std::exception&) {
                // not resolvable yet: the daemon retries; no disk to leave out for it
            }
            paths.push_back(std::move(p));
        }
    }
    for (const auto& d : list_block_devices()) {
        if (std::find(covered.begin(), covered.end(), d.dev) != covered.end()) continue;
        PathConfig p;
        p.name = d.name;
        p.kind = PathKind::kDevice;
        p.target = d.devnode;
        p.preset = "block";
        p.policy = config.defaults;
        paths.push_back(std::move(p));
    }
    return paths;
}

// The device behind a path and the node its block heartbeat reads (empty: none).
ResolvedDevice resolve_device(Watched& w, const StorageSources& sources) {
    w.storage = owner_of(w.config, sources);
    if (w.storage) return w.storage->device_of(w.config);
    switch (w.config.kind) {
        case PathKind::kDevice:
            return {whole_disk(resolve_block_device(w.config.target)), w.config.target};
        case PathKind::kMount:
            return {whole_disk(resolve_block_device(w.config.target)), {}};
        case PathKind::kDrbd:
            break;
    }
    throw std::runtime_error(
        sources.empty() ? "DRBD resources need the DRBD source, which this build does not have"
                        : "no DRBD resource of that name (drbdsetup events2 does not list it)");
}

// Finds the device behind a path, logging each new failure once (a missing device is
// expected while it is being set up; the daemon keeps watching the rest).
void resolve(Watched& w, TimePoint now, const Clock& clock, const StorageSources& sources) {
    if (w.dev || now < w.next_resolve) return;
    w.next_resolve = now + kResolveInterval;
    ResolvedDevice device;
    try {
        device = resolve_device(w, sources);
        w.dev = device.dev;
    } catch (const std::exception& e) {
        if (e.what() != w.last_error)
            spdlog::error("Failed to resolve path '{}' ({} {}): {}; will retry every {}",
                          w.config.name, to_string(w.config.kind), w.config.target, e.what(),
                          format_duration(kResolveInterval));
        w.last_error = e.what();
        return;
    }
    w.last_error.clear();
    if (!w.storage) {
        w.identity = read_device_identity(
            *w.dev, w.config.kind == PathKind::kDevice ? w.config.target : std::string());
        w.device = {};
    }
    spdlog::info("Path '{}': {} {} is device {}{}", w.config.name, to_string(w.config.kind),
                 w.config.target, format_dev(*w.dev),
                 w.storage ? fmt::format(" (watched by the {} source)", w.storage->name()) : "");
    if (w.storage)
        for (const auto& warning : w.storage->check(w.config))
            spdlog::warn("Path '{}': {}", w.config.name, warning);
    const bool filesystem = w.config.kind == PathKind::kMount;
    if (w.config.policy.heartbeat && !w.prober && (filesystem || !device.node.empty())) {
        HeartbeatProber::Options o;
        o.kind =
            filesystem ? HeartbeatProber::Kind::kFilesystem : HeartbeatProber::Kind::kBlockDevice;
        o.target = filesystem ? w.config.target : device.node;
        o.interval = w.config.policy.timings.probe_interval;
        w.prober = std::make_unique<HeartbeatProber>(o, clock);
        w.prober->start();
    }
}

// The block device now against the one resolved: a change is logged once, and said in the
// path's reason (its facts) for as long as it holds.
void check_device(Watched& w, StorageFacts& facts) {
    if (!w.identity) return;
    const std::string node = w.config.kind == PathKind::kDevice ? w.config.target : std::string();
    DeviceCheck now = compare_identity(*w.identity, read_device_identity(w.identity->dev, node));
    if (now != w.device) {
        if (now.fate == DeviceFate::kPresent)
            spdlog::info("Path '{}': device {} is back as resolved ({})", w.config.name,
                         format_dev(w.identity->dev), w.identity->name);
        else
            spdlog::error("Path '{}': {}", w.config.name, describe_device(now.fate, now.detail));
        w.device = std::move(now);
    }
    facts.device_fate = w.device.fate;
    facts.device_detail = w.device.detail;
}

// A probe that fails is an answer, often a fast one: logged once per failing episode.
void log_heartbeat_failure(Watched& w, const HeartbeatEvidence& hb) {
    if (!hb.last_failed || !hb.failing_since || w.failure_logged == hb.failing_since) return;
    w.failure_logged = hb.failing_since;
    spdlog::warn("Heartbeat on '{}' failed in {}: {}", w.config.name,
                 format_duration(hb.last_latency), hb.last_error);
}

}  // namespace

std::vector<PathConfig> WatchedPaths::set(const DaemonConfig& config) {
    std::vector<PathConfig> paths = effective_paths(config, storage_);
    for (auto& p : paths) p.policy.timings.tick = config.tick;
    if (paths.empty()) spdlog::warn("No paths to monitor: none configured and none discovered");
    std::vector<Watched> next;
    for (const auto& p : paths) {
        auto kept = std::find_if(watched_.begin(), watched_.end(),
                                 [&](const Watched& w) { return same_path(w.config, p); });
        if (kept != watched_.end())
            next.push_back(std::move(*kept));
        else
            next.push_back(Watched{p, {}, {}, {}, {}, nullptr, {}, {}, {}});
    }
    stop();  // the paths that went or changed
    watched_ = std::move(next);
    return paths;
}

void WatchedPaths::stop() {
    for (auto& w : watched_)
        if (w.prober) w.prober->stop();
}

KernelSource* WatchedPaths::kernel_of(const Watched& w, KernelSource& block) const {
    KernelSource* own = w.storage ? w.storage->kernel_source() : nullptr;
    return own ? own : &block;
}

std::map<std::string, Sample> WatchedPaths::sample(TimePoint now, KernelSource& block) {
    // --- resolve paths whose device was missing ---
    // The kernel evidence of each device comes from the block source, or from the storage
    // source that has its own (NFS RPCs).
    std::map<KernelSource*, std::vector<dev_t>> wanted;
    wanted[&block];
    for (const auto& s : storage_)
        if (s->kernel_source()) wanted[s->kernel_source()];
    std::map<StorageSource*, std::vector<PathConfig>> owned;
    for (auto& w : watched_) {
        resolve(w, now, clock_, storage_);
        if (w.storage) owned[w.storage].push_back(w.config);
        if (w.dev) wanted[kernel_of(w, block)].push_back(*w.dev);
    }
    for (auto& [source, devices] : wanted) {
        if (devices == devices_[source]) continue;
        devices_[source] = devices;
        source->set_devices(devices);
    }

    // --- sample ---
    std::map<KernelSource*, std::map<dev_t, KernelEvidence>> evidence;
    for (const auto& [source, devices] : devices_) evidence[source] = source->collect(now);
    std::map<StorageSource*, std::map<std::string, StorageFacts>> facts;
    for (const auto& [source, paths] : owned) facts[source] = source->collect(paths, now);
    std::map<std::string, Sample> samples;
    for (auto& w : watched_) {
        Sample s;
        s.at = now;
        if (w.dev) {
            const auto& devices = evidence[kernel_of(w, block)];
            if (const auto it = devices.find(*w.dev); it != devices.end()) s.kernel = it->second;
        }
        if (w.storage) {
            const auto& known = facts[w.storage];
            if (const auto it = known.find(w.config.name); it != known.end()) s.facts = it->second;
        }
        check_device(w, s.facts);
        if (w.prober) {
            s.heartbeat = w.prober->snapshot();
            if (probe_cannot_run(s.heartbeat)) {
                // Not the storage's answer: the probe is not allowed to open the device.
                spdlog::error("Heartbeat on '{}' cannot run ({}): kernel evidence only",
                              w.config.name, s.heartbeat.last_error);
                w.prober->stop();
                w.prober.reset();
                s.heartbeat = HeartbeatEvidence{};
            } else {
                log_heartbeat_failure(w, s.heartbeat);
            }
        }
        samples.emplace(w.config.name, std::move(s));
    }
    return samples;
}

}  // namespace iohealth
