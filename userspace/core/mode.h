#pragma once
// The daemon-wide fence mode. Maintenance is a timed disarm that always re-arms itself to the
// mode it interrupted: an operator can never leave a host silently unarmed by forgetting it.
#include <optional>
#include <string>
#include <string_view>

#include "core/policy.h"

namespace iohealth {

// Where the base mode came from: the configuration (or --mode), or a runtime change (the bus,
// `iohealthctl mode`), which is kept across restarts.
enum class ModeSource { kConfig, kRuntime };
std::string_view to_string(ModeSource s);

struct EffectiveMode {
    Mode mode = Mode::kDryRun;  // what the escalation engine obeys right now
    bool maintenance = false;
    std::optional<TimePoint> maintenance_until;
    bool operator==(const EffectiveMode&) const = default;
};

// "maintenance" while a window is open, else the mode's name.
std::string mode_text(const EffectiveMode& m);

struct ModeChange {
    EffectiveMode from;
    EffectiveMode to;
    std::string reason;
};

class ModeState {
  public:
    explicit ModeState(Mode base = Mode::kDryRun, ModeSource source = ModeSource::kConfig,
                       std::optional<TimePoint> maintenance_until = std::nullopt)
        : base_(base), source_(source), maintenance_until_(maintenance_until) {}

    EffectiveMode effective() const;
    Mode base() const { return base_; }
    ModeSource source() const { return source_; }
    bool operator==(const ModeState&) const = default;

    // A runtime change; leaves maintenance, if any.
    ModeChange set(Mode mode, std::string reason);
    ModeChange enter_maintenance(TimePoint now, Duration length, std::string reason);
    // Called every tick: ends maintenance whose time is up.
    std::optional<ModeChange> expire(TimePoint now);

  private:
    Mode base_;
    ModeSource source_;
    std::optional<TimePoint> maintenance_until_;
};

}  // namespace iohealth
