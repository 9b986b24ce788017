#include "sources/bpf/bpf_block_source.h"

#include <linux/types.h>
// clang-format off: the shared BPF header needs the __u* types first.
#include "iohealth.h"
// clang-format on

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "block_bio.skel.h"
#include "block_rq.skel.h"
#include "os/errno_text.h"
#include "sources/block/block_devices.h"
#include "sources/bpf/bpf_block_devices.h"
#include "sources/bpf/dev_stats.h"
#include "sources/bpf/request_ages.h"

namespace iohealth {
namespace {

static_assert(static_cast<int>(BlockOp::kFlush) == IOH_OP_FLUSH);
static_assert(IOH_AGE_SHIFT == AgeRingReading::kShift && IOH_AGE_SLOTS == AgeRingReading::kSlots &&
                  IOH_AGE_LATE == AgeRingReading::kLate && IOH_AGE_OPS == AgeRingReading::kOps,
              "bpf/iohealth.h and sources/request_ages.h must share one age ring layout");

// An in-flight entry older than this while the kernel reports nothing in flight on its
// device is a leak (a missed completion), not a request the kernel is still working on.
constexpr std::uint64_t kStaleGraceNs = 1'000'000'000;

struct RqDeleter {
    void operator()(block_rq* s) const { block_rq__destroy(s); }
};
struct BioDeleter {
    void operator()(block_bio* s) const { block_bio__destroy(s); }
};

int libbpf_to_spdlog(enum libbpf_print_level level, const char* format, va_list args) {
    // Sized to the message: a verifier log (why a program was refused) is one long message.
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    std::string line(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
    if (n > 0) std::vsnprintf(line.data(), line.size() + 1, format, args);
    std::string_view text(line);
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    // libbpf is chatty at info; only its warnings are worth a line outside debug.
    if (level == LIBBPF_WARN)
        spdlog::debug("libbpf: {}", text);
    else
        spdlog::trace("libbpf: {}", text);
    return n;
}

// Attaches one program; on failure returns the reason.
std::string attach(bpf_program* prog, bpf_link** link) {
    *link = bpf_program__attach(prog);
    if (*link != nullptr) return {};
    return fmt::format("Failed to attach BPF program '{}': {}", bpf_program__name(prog),
                       errno_text(errno));
}

}  // namespace

struct BpfBlockSource::Probes {
    std::unique_ptr<block_rq, RqDeleter> rq;
    std::unique_ptr<block_bio, BioDeleter> bio;  // null: bio-based devices are not measured
    int ncpus = 0;
};

Expected<std::unique_ptr<BpfBlockSource>> BpfBlockSource::make(const BpfOptions& options) {
    using Made = Expected<std::unique_ptr<BpfBlockSource>>;
    libbpf_set_print(libbpf_to_spdlog);
    auto features = BpfFeatures::probe(options.disabled);
    if (!features.usable()) return Made::failure(features.unavailable_reason);

    auto probes = std::make_unique<Probes>();
    std::vector<std::string> notes;
    probes->ncpus = libbpf_num_possible_cpus();
    if (probes->ncpus <= 0)
        return Made::failure("Failed to count possible CPUs: " + errno_text(probes->ncpus));

    // --- request-based family: mandatory ---
    probes->rq.reset(block_rq__open());
    if (!probes->rq)
        return Made::failure("Failed to open BPF object 'block_rq': " + errno_text(errno));
    auto* rq = probes->rq.get();
    rq->rodata->filter_dev = options.filter_devices;
    rq->rodata->targ_per_request = options.per_request;
    // The exact per-request table makes the age ring redundant.
    rq->rodata->targ_age_ring = !options.per_request;
    rq->rodata->targ_single_arg = features.rq_issue_single_arg;
    rq->rodata->targ_error_is_errno = features.rq_error_is_errno;
    bpf_program__set_autoload(rq->progs.handle_rq_requeue, !options.per_request);
    if (const int err = block_rq__load(rq); err != 0)
        return Made::failure("Failed to load BPF object 'block_rq': " + errno_text(err));
    if (auto e = attach(rq->progs.handle_rq_complete, &rq->links.handle_rq_complete); !e.empty())
        return Made::failure(e);
    // Issue (and requeue) feed the per-request table or the age ring: without them a stuck
    // request of a request-based disk goes unseen, the rest still works.
    std::string age_failure = attach(rq->progs.handle_rq_issue, &rq->links.handle_rq_issue);
    if (age_failure.empty() && !options.per_request)
        age_failure = attach(rq->progs.handle_rq_requeue, &rq->links.handle_rq_requeue);
    if (!age_failure.empty()) {
        notes.push_back(age_failure + "; request-based disks report no oldest in-flight age");
        bpf_link__destroy(rq->links.handle_rq_issue);
        rq->links.handle_rq_issue = nullptr;
    }

    // --- bio-based family: optional ---
    if (!options.bio_devices) {
        notes.push_back("bio-based probes disabled by configuration");
    } else if (!features.bio_tracepoints) {
        notes.push_back(
            "the kernel has no block_bio_queue/block_bio_complete tracepoints; "
            "bio-based devices (DRBD, dm, md, zram) are not measured");
    } else {
        probes->bio.reset(block_bio__open());
        std::string failure;
        if (!probes->bio) {
            failure = "Failed to open BPF object 'block_bio': " + errno_text(errno);
        } else {
            auto* bio = probes->bio.get();
            bio->rodata->filter_dev = options.filter_devices;
            if (const int err = block_bio__load(bio); err != 0)
                failure = "Failed to load BPF object 'block_bio': " + errno_text(err);
        }
        if (!failure.empty()) {
            notes.push_back(failure + "; bio-based devices (DRBD, dm, md, zram) are not measured");
            probes->bio.reset();
        }
    }
    std::unique_ptr<BpfBlockSource> source(
        new BpfBlockSource(options, std::move(features), std::move(probes), std::move(notes)));
    // Unfiltered mode watches every bio-based disk, so the bio probes run from the start.
    if (!options.filter_devices) source->attach_bio_probes(true);
    return source;
}

// block_bio_queue fires for every bio on the host, blk-mq disks included, so its programs
// cost something on every I/O even when they record nothing: attach them only while a
// bio-based device is tracked.
void BpfBlockSource::attach_bio_probes(bool wanted) {
    auto* bio = probes_->bio.get();
    if (bio == nullptr) return;
    const bool attached = bio->links.handle_bio_complete != nullptr;
    if (wanted && !attached) {
        // Completion first: a queued entry without its completion program would only leak.
        auto failure = attach(bio->progs.handle_bio_complete, &bio->links.handle_bio_complete);
        if (failure.empty())
            failure = attach(bio->progs.handle_bio_queue, &bio->links.handle_bio_queue);
        if (!failure.empty()) {
            notes_.push_back(failure + "; bio-based devices (DRBD, dm, md, zram) are not measured");
            spdlog::warn("{}; bio-based devices are not measured", failure);
            probes_->bio.reset();
        }
    } else if (!wanted && attached) {
        bpf_link__destroy(bio->links.handle_bio_queue);
        bio->links.handle_bio_queue = nullptr;
        bpf_link__destroy(bio->links.handle_bio_complete);
        bio->links.handle_bio_complete = nullptr;
        // Bios queued before the detach will never be seen completing: forget them.
        const int fd = bpf_map__fd(bio->maps.bio_inflight);
        std::uint64_t key = 0;
        while (bpf_map_get_next_key(fd, nullptr, &key) == 0) bpf_map_delete_elem(fd, &key);
    }
}

BpfBlockSource::BpfBlockSource(BpfOptions options, BpfFeatures features,
                               std::unique_ptr<Probes> probes, std::vector<std::string> notes)
    : options_(options),
      features_(std::move(features)),
      probes_(std::move(probes)),
      notes_(std::move(notes)) {}

BpfBlockSource::~BpfBlockSource() = default;

bool BpfBlockSource::tracks_bio_devices() const {
    return probes_->bio != nullptr;
}

void BpfBlockSource::set_devices(const std::vector<dev_t>& devices) {
    std::map<std::uint32_t, Device> next;
    for (const dev_t d : devices) {
        std::optional<dev_t> disk;
        try {
            disk = whole_disk(d);
        } catch (const std::exception& e) {
            spdlog::warn("Failed to track block device {}:{}: {}, ignoring", major(d), minor(d),
                         e.what());
            continue;
        }
        const bool bio = !is_request_based(*disk);
        if (bio && !probes_->bio) {
            spdlog::warn(
                "Failed to track block device {}:{}: it is bio-based and the bio "
                "probes are not loaded, ignoring",
                major(d), minor(d));
            continue;
        }
        auto& dev = next[kernel_dev(*disk)];
        dev.disk = *disk;
        dev.bio_based = bio;
        dev.requested.push_back(d);
    }

    if (options_.filter_devices) {
        const int bio_fd = probes_->bio ? bpf_map__fd(probes_->bio->maps.bio_dev_stats) : -1;
        for (const auto& [kdev, dev] : devices_) {
            if (next.count(kdev) != 0) {
                next[kdev].slot = dev.slot;
                continue;
            }
            if (dev.bio_based)
                bpf_map_delete_elem(bio_fd, &kdev);
            else if (dev.slot)
                free_rq_slot(*dev.slot);
            ages_.erase(kdev);
            baseline_.erase(kdev);
            prev_kernel_in_flight_.erase(kdev);
        }
        const std::vector<ioh_dev_stats> zero(static_cast<std::size_t>(probes_->ncpus));
        for (auto& [kdev, dev] : next) {
            if (devices_.count(kdev) != 0) continue;
            std::string failure;
            if (dev.bio_based) {
                if (bpf_map_update_elem(bio_fd, &kdev, zero.data(), BPF_NOEXIST) != 0 &&
                    errno != EEXIST)
                    failure = errno_text(errno);
            } else {
                dev.slot = take_rq_slot(kdev, failure);
            }
            if (!failure.empty()) {
                spdlog::warn("Failed to add block device {}:{} to the BPF allow-list: {}, ignoring",
                             major(dev.disk), minor(dev.disk), failure);
                continue;
            }
            baseline_[kdev] = Totals{};
            prev_kernel_in_flight_[kdev] = kernel_in_flight(dev.disk).value_or(0);
        }
    }
    devices_ = std::move(next);
    if (options_.filter_devices)
        attach_bio_probes(std::any_of(devices_.begin(), devices_.end(),
                                      [](const auto& d) { return d.second.bio_based; }));
}

// A slot for a request-based disk: its counters and age ring zeroed first, then the slot
// published to the probes. None (and `failure` says why) when it cannot have one.
std::optional<std::uint32_t> BpfBlockSource::take_rq_slot(std::uint32_t kdev,
                                                          std::string& failure) {
    const auto slot = rq_slots_.place(kdev);
    if (!slot) {
        failure = fmt::format("the {} slots its device number hashes to are taken", IOH_DEV_PROBES);
        return std::nullopt;
    }
    const std::vector<ioh_dev_stats> no_stats(static_cast<std::size_t>(probes_->ncpus));
    const std::vector<ioh_age_ring> no_ages(static_cast<std::size_t>(probes_->ncpus));
    if (bpf_map_update_elem(bpf_map__fd(probes_->rq->maps.rq_dev_stats), &*slot, no_stats.data(),
                            BPF_ANY) != 0 ||
        bpf_map_update_elem(bpf_map__fd(probes_->rq->maps.rq_age), &*slot, no_ages.data(),
                            BPF_ANY) != 0 ||
        bpf_map_update_elem(bpf_map__fd(probes_->rq->maps.rq_slot_dev), &*slot, &kdev, BPF_ANY) !=
            0) {
        failure = errno_text(errno);
        rq_slots_.remove(*slot);
        return std::nullopt;
    }
    return slot;
}

void BpfBlockSource::free_rq_slot(std::uint32_t slot) {
    const std::uint32_t gone = IOH_DEV_GONE;
    bpf_map_update_elem(bpf_map__fd(probes_->rq->maps.rq_slot_dev), &slot, &gone, BPF_ANY);
    rq_slots_.remove(slot);
}

// The devices of a family and the keys of their entries in its maps: the device number for
// the bio family, the slot for the request-based one.
std::vector<std::pair<std::uint32_t, std::uint32_t>> BpfBlockSource::tracked(int stats_fd,
                                                                             bool bio_based) const {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
    if (!bio_based && options_.filter_devices) {
        for (const auto& [kdev, dev] : devices_)
            if (dev.slot) out.emplace_back(kdev, *dev.slot);
    } else if (!bio_based) {
        // Unfiltered: the probes took the slots themselves.
        const int fd = bpf_map__fd(probes_->rq->maps.rq_slot_dev);
        for (std::uint32_t slot = 0; slot < IOH_MAX_DEVS; ++slot) {
            std::uint32_t kdev = 0;
            if (bpf_map_lookup_elem(fd, &slot, &kdev) == 0 && kdev != 0 && kdev != IOH_DEV_GONE)
                out.emplace_back(kdev, slot);
        }
    } else {
        // The stats map's keys (in unfiltered mode the probe adds them itself).
        std::uint32_t key = 0;
        for (bool first = true;; first = false) {
            std::uint32_t next = 0;
            if (bpf_map_get_next_key(stats_fd, first ? nullptr : &key, &next) != 0) break;
            out.emplace_back(next, next);
            key = next;
        }
    }
    return out;
}

BpfBlockSource::Totals BpfBlockSource::read_totals(int map_fd, std::uint32_t key) const {
    Totals t;
    read_dev_stats(map_fd, key, probes_->ncpus, t);
    return t;
}

void BpfBlockSource::scan_in_flight(int map_fd,
                                    const std::map<std::uint32_t, std::uint32_t>& accounted,
                                    std::uint64_t read_at_ns,
                                    std::map<std::uint32_t, InFlightView>& out) {
    scan_keys_.resize(IOH_MAX_INFLIGHT);
    scan_values_.resize(IOH_MAX_INFLIGHT * sizeof(ioh_inflight));
    std::vector<std::uint64_t> stale;
    std::uint64_t batch = 0;
    for (bool first = true;; first = false) {
        __u32 count = IOH_MAX_INFLIGHT;
        const int err =
            bpf_map_lookup_batch(map_fd, first ? nullptr : &batch, &batch, scan_keys_.data(),
                                 scan_values_.data(), &count, nullptr);
        const int saved = errno;
        for (__u32 i = 0; i < count; ++i) {
            ioh_inflight v;
            std::memcpy(&v, scan_values_.data() + i * sizeof(v), sizeof(v));
            // Leaked: older than the grace at the moment the kernel said "nothing in flight"
            // on that device. Only trusted where the kernel does I/O accounting at all.
            const auto k = accounted.find(v.dev);
            if (k != accounted.end() && k->second == 0 && v.start_ns + kStaleGraceNs < read_at_ns) {
                stale.push_back(scan_keys_[i]);
                continue;
            }
            auto& view = out[v.dev];
            if (view.count == 0 || v.start_ns < view.oldest_start_ns) {
                view.oldest_start_ns = v.start_ns;
                view.oldest_direction =
                    v.op == IOH_OP_READ ? IoDirection::kRead : IoDirection::kWrite;
            }
            ++view.count;
        }
        if (err != 0) {
            if (saved != ENOENT)
                spdlog::warn("Failed to scan BPF in-flight table: {}, ignoring", errno_text(saved));
            break;
        }
    }
    for (auto key : stale)
        if (bpf_map_delete_elem(map_fd, &key) == 0) ++stale_purged_;
}

std::map<dev_t, KernelEvidence> BpfBlockSource::collect(TimePoint now) {
    std::map<dev_t, KernelEvidence> out;
    per_op_.clear();
    // Both ends of the age ring are attached: requests that start from now on are in it.
    if (age_ring_attached() && probes_->rq->data->age_since_ns == ~0ULL)
        probes_->rq->data->age_since_ns = ktime_ns(now);

    struct Family {
        int stats_fd;
        int inflight_fd;  // -1: this family keeps no in-flight table
        bool bio_based;
    };
    std::vector<Family> families{{bpf_map__fd(probes_->rq->maps.rq_dev_stats),
                                  options_.per_request && probes_->rq->links.handle_rq_issue
                                      ? bpf_map__fd(probes_->rq->maps.rq_inflight)
                                      : -1,
                                  false}};
    if (probes_->bio)
        families.push_back({bpf_map__fd(probes_->bio->maps.bio_dev_stats),
                            bpf_map__fd(probes_->bio->maps.bio_inflight), true});

    for (const auto& family : families) {
        const auto keys = tracked(family.stats_fd, family.bio_based);

        // The kernel's in-flight view first, then the BPF table: an entry that started before
        // this read and that the kernel does not count is a leak.
        std::map<std::uint32_t, std::uint32_t> kernel;
        std::map<std::uint32_t, std::uint32_t> accounting;  // devices with queue/iostats=1
        // The tick's time (the read follows it): an age is never overstated.
        const auto read_at_ns = ktime_ns(now);
        for (const auto& [kdev, key] : keys) {
            if (auto n = kernel_in_flight(user_dev(kdev))) kernel[kdev] = *n;
            if (queue_does_io_accounting(user_dev(kdev))) accounting[kdev] = kernel[kdev];
        }
        std::map<std::uint32_t, InFlightView> tracked;
        if (family.inflight_fd >= 0)
            scan_in_flight(family.inflight_fd, accounting, read_at_ns, tracked);

        for (const auto& [kdev, key] : keys) {
            // No inflight file: the disk is gone (its stats entry stays, in case the number
            // comes back; the counters only grow, so deltas stay right).
            const auto k = kernel.find(kdev);
            if (k == kernel.end()) continue;
            const Totals cur = read_totals(family.stats_fd, key);
            const Totals prev = baseline_[kdev];
            KernelEvidence ev;
            ev.available = true;
            ev.completed = cur.completed - prev.completed;
            ev.bytes = cur.bytes - prev.bytes;
            ev.errors.io = cur.errors[IOH_ERR_IO] - prev.errors[IOH_ERR_IO];
            ev.errors.timeout = cur.errors[IOH_ERR_TIMEOUT] - prev.errors[IOH_ERR_TIMEOUT];
            ev.errors.other = cur.errors[IOH_ERR_OTHER] - prev.errors[IOH_ERR_OTHER];
            PerOpLatency per_op{};
            for (int op = 0; op < IOH_OP_MAX; ++op) {
                for (int s = 0; s < IOH_HIST_SLOTS; ++s)
                    per_op[op].slots()[s] =
                        cur.latency[op].slots()[s] - prev.latency[op].slots()[s];
                ev.latency += per_op[op];
            }
            if (cur.last_complete_ns != 0)
                ev.last_completion =
                    from_usec(static_cast<std::int64_t>(cur.last_complete_ns / 1000));

            const std::uint32_t kernel_now = k->second;
            const auto t = tracked.find(kdev);
            const std::uint32_t table_now = t != tracked.end() ? t->second.count : 0;
            ev.in_flight = std::max(kernel_now, table_now);
            if (family.inflight_fd >= 0) {
                ev.oldest_in_flight_age =
                    t == tracked.end() || t->second.oldest_start_ns >= read_at_ns
                        ? Duration{0}
                        : Duration{static_cast<std::int64_t>(
                              (read_at_ns - t->second.oldest_start_ns) / 1000)};
                if (t != tracked.end()) ev.oldest_in_flight_direction = t->second.oldest_direction;
            } else if (age_ring_attached()) {
                oldest_from_ages(kdev, key, kernel_now, read_at_ns, ev);
            }
            if (family.bio_based || options_.per_request) {
                ev.issued = cur.issued - prev.issued;
            } else {
                // Default rq mode has no issue probe: what started is what finished plus the
                // growth of the kernel's in-flight count.
                const auto before = static_cast<std::int64_t>(prev_kernel_in_flight_[kdev]);
                const auto issued = static_cast<std::int64_t>(ev.completed) +
                                    static_cast<std::int64_t>(kernel_now) - before;
                ev.issued = issued > 0 ? static_cast<std::uint64_t>(issued) : 0;
            }
            prev_kernel_in_flight_[kdev] = kernel_now;
            baseline_[kdev] = cur;

            const auto d = devices_.find(kdev);
            if (d != devices_.end()) {
                for (const dev_t requested : d->second.requested) {
                    out[requested] = ev;
                    per_op_[requested] = per_op;
                }
            } else if (!options_.filter_devices) {
                out[user_dev(kdev)] = ev;
                per_op_[user_dev(kdev)] = per_op;
            }
        }
    }
    return out;
}

bool BpfBlockSource::age_ring_attached() const {
    return !options_.per_request && probes_->rq->links.handle_rq_issue != nullptr;
}

// The oldest request from the age ring. `kernel_in_flight`: the kernel's count, read before
// the ring; when it says none, what the ring holds from earlier slots was missed, not stuck.
void BpfBlockSource::oldest_from_ages(std::uint32_t kdev, std::uint32_t slot,
                                      std::uint32_t kernel_in_flight, std::uint64_t read_at_ns,
                                      KernelEvidence& ev) {
    std::vector<ioh_age_ring> cpus(static_cast<std::size_t>(probes_->ncpus));
    if (bpf_map_lookup_elem(bpf_map__fd(probes_->rq->maps.rq_age), &slot, cpus.data()) != 0) return;
    AgeRingReading r;
    for (const auto& c : cpus) {
        for (int op = 0; op < IOH_AGE_OPS; ++op) {
            for (int s = 0; s < IOH_AGE_SLOTS; ++s) {
                r.started[op][s] += c.started[op][s];
                r.finished[op][s] += c.finished[op][s];
            }
            r.finished_late[op] += c.finished_late[op];
        }
    }
    auto& ages = ages_[kdev];
    if (kernel_in_flight == 0) ages.forget_before(r, read_at_ns);
    const auto oldest = ages.update(r, read_at_ns);
    ev.oldest_in_flight_age =
        oldest && oldest->started_by_ns < read_at_ns
            ? Duration{static_cast<std::int64_t>((read_at_ns - oldest->started_by_ns) / 1000)}
            : Duration{0};
    if (oldest) ev.oldest_in_flight_direction = oldest->direction;
}

std::optional<PerOpLatency> BpfBlockSource::per_op_latency(dev_t dev) const {
    const auto it = per_op_.find(dev);
    if (it == per_op_.end()) return std::nullopt;
    return it->second;
}

BpfDiagnostics BpfBlockSource::diagnostics() const {
    BpfDiagnostics d;
    d.stale_purged = stale_purged_;
    std::vector<int> fds{bpf_map__fd(probes_->rq->maps.rq_diag)};
    if (probes_->bio) fds.push_back(bpf_map__fd(probes_->bio->maps.bio_diag));
    for (const int fd : fds) {
        d.inflight_update_failed +=
            read_per_cpu_sum(fd, IOH_DIAG_INFLIGHT_UPDATE_FAIL, probes_->ncpus);
        d.device_update_failed += read_per_cpu_sum(fd, IOH_DIAG_DEV_UPDATE_FAIL, probes_->ncpus);
        d.no_start_time += read_per_cpu_sum(fd, IOH_DIAG_NO_START_TIME, probes_->ncpus);
    }
    return d;
}

std::map<std::string, int> BpfBlockSource::program_fds() const {
    std::map<std::string, int> fds;
    auto add = [&](bpf_program* prog, bpf_link* link) {
        if (link != nullptr) fds[bpf_program__name(prog)] = bpf_program__fd(prog);
    };
    add(probes_->rq->progs.handle_rq_complete, probes_->rq->links.handle_rq_complete);
    add(probes_->rq->progs.handle_rq_issue, probes_->rq->links.handle_rq_issue);
    add(probes_->rq->progs.handle_rq_requeue, probes_->rq->links.handle_rq_requeue);
    if (probes_->bio) {
        add(probes_->bio->progs.handle_bio_queue, probes_->bio->links.handle_bio_queue);
        add(probes_->bio->progs.handle_bio_complete, probes_->bio->links.handle_bio_complete);
    }
    return fds;
}

}  // namespace iohealth
