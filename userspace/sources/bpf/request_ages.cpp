#include "sources/bpf/request_ages.h"

#include <algorithm>

namespace iohealth {
namespace {

constexpr int kShift = AgeRingReading::kShift;
constexpr int kSlots = AgeRingReading::kSlots;
constexpr std::uint64_t kLate = AgeRingReading::kLate;
constexpr int kOps = AgeRingReading::kOps;

// The span a slot holds now: the latest one at or before `current` that maps to it.
std::uint64_t span_of(int slot, std::uint64_t current) {
    const auto back = (current - static_cast<std::uint64_t>(slot)) % kSlots;
    return current - back;
}

// Outstanding in a slot beyond what was carried; never negative (a completion can be read
// before its issue on another CPU).
std::uint64_t held(const AgeRingReading& r, int op, int slot, std::uint64_t base) {
    const std::uint64_t net = r.started[op][slot] - r.finished[op][slot];  // modular
    const auto diff = static_cast<std::int64_t>(net - base);
    return diff > 0 ? static_cast<std::uint64_t>(diff) : 0;
}

}  // namespace

std::optional<OldestRequest> RequestAges::update(const AgeRingReading& r, std::uint64_t now_ns) {
    const std::uint64_t current = now_ns >> kShift;

    std::optional<std::uint64_t> oldest_span;
    IoDirection direction = IoDirection::kRead;
    auto consider = [&](std::uint64_t span, int op) {
        if (oldest_span && *oldest_span <= span) return;
        oldest_span = span;
        direction = op == 0 ? IoDirection::kRead : IoDirection::kWrite;
    };
    for (int slot = 0; slot < kSlots; ++slot) {
        const std::uint64_t span = span_of(slot, current);
        const bool frozen = current - span >= kLate;
        for (int op = 0; op < kOps; ++op) {
            const std::uint64_t n = held(r, op, slot, base_[op][slot]);
            if (n == 0) continue;
            if (frozen && frozen_[slot] != span + 1) {
                carried_.push_back({span, op, n});
                base_[op][slot] += n;
                continue;
            }
            if (!frozen) consider(span, op);
        }
        if (frozen) frozen_[slot] = span + 1;
    }
    std::sort(carried_.begin(), carried_.end(),
              [](const Carried& a, const Carried& b) { return a.span < b.span; });
    // Late completions belong to carried spans: retire the youngest first (a request that
    // just turned late is likelier to complete than one that waited for minutes).
    for (int op = 0; op < kOps; ++op) {
        std::uint64_t done = r.finished_late[op] - late_seen_[op];
        late_seen_[op] = r.finished_late[op];
        for (auto c = carried_.rbegin(); c != carried_.rend() && done > 0; ++c) {
            if (c->op != op) continue;
            const auto n = std::min(done, c->count);
            c->count -= n;
            done -= n;
        }
    }
    std::erase_if(carried_, [](const Carried& c) { return c.count == 0; });
    for (const auto& c : carried_) consider(c.span, c.op);
    if (!oldest_span) return std::nullopt;
    return OldestRequest{(*oldest_span + 1) << kShift, direction};
}

void RequestAges::forget_before(const AgeRingReading& r, std::uint64_t now_ns) {
    const std::uint64_t current = now_ns >> kShift;
    carried_.clear();
    late_seen_ = r.finished_late;
    for (int slot = 0; slot < kSlots; ++slot) {
        if (current - span_of(slot, current) < 2) continue;
        for (int op = 0; op < kOps; ++op)
            base_[op][slot] = r.started[op][slot] - r.finished[op][slot];
    }
}

}  // namespace iohealth
