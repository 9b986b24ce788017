#include "sidebyside/fault_timeline.h"

#include <sstream>

namespace iohealth::peer {
namespace {

// A FUSE round trip on an idle harness: what "normal" costs in the model.
constexpr Duration kNormalLatency = std::chrono::microseconds(200);

}  // namespace

bool valid_fault_command(const std::string& command) {
    std::istringstream in(command);
    std::string verb;
    in >> verb;
    if (verb == "delay") {
        long min = -1, max = -1;
        if (!(in >> min)) return false;
        if (!(in >> max)) max = min;
        return min >= 0 && max >= min;
    }
    return verb == "hang" || verb == "eio" || verb == "release" || verb == "heal";
}

StorageModel::StorageModel(std::vector<FaultStep> steps, TimePoint origin, unsigned seed)
    : steps_(std::move(steps)), origin_(origin), rng_(seed) {}

StorageModel::Mode StorageModel::mode_at(TimePoint t) const {
    Mode m;
    for (const FaultStep& s : steps_) {
        if (origin_ + s.at > t) break;
        std::istringstream in(s.command);
        std::string verb;
        in >> verb;
        if (verb == "delay") {
            long min = 0, max = 0;
            in >> min;
            if (!(in >> max)) max = min;
            m = {Mode::kDelay, std::chrono::milliseconds(min), std::chrono::milliseconds(max)};
        } else if (verb == "hang") {
            m = {Mode::kHang, {}, {}};
        } else if (verb == "eio") {
            m = {Mode::kEio, {}, {}};
        } else if (verb == "heal" || (verb == "release" && m.kind == Mode::kHang)) {
            m = {Mode::kNormal, {}, {}};
        }
    }
    return m;
}

StorageModel::Outcome StorageModel::complete_under(const Mode& m, TimePoint t) {
    switch (m.kind) {
        case Mode::kNormal:
            return {t + kNormalLatency, true};
        case Mode::kEio:
            return {t + kNormalLatency, false};
        case Mode::kDelay: {
            std::uniform_int_distribution<Duration::rep> pick(m.min.count(), m.max.count());
            return {t + Duration(pick(rng_)), true};
        }
        case Mode::kHang:
            break;
    }
    // Held until the next release or heal, then resubmitted under the mode that leaves.
    for (const FaultStep& s : steps_) {
        const TimePoint when = origin_ + s.at;
        if (when <= t) continue;
        if (s.command == "release" || s.command == "heal") {
            const Mode after = mode_at(when);
            if (after.kind != Mode::kHang) return complete_under(after, when);
        }
    }
    return {std::nullopt, false};
}

bool StorageModel::readable(TimePoint t) const {
    const Mode m = mode_at(t);
    return m.kind == Mode::kNormal || m.kind == Mode::kDelay;
}

StorageModel::Outcome StorageModel::write(TimePoint issued) {
    return complete_under(mode_at(issued), issued);
}

}  // namespace iohealth::peer
