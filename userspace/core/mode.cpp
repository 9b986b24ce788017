#include "core/mode.h"

namespace iohealth {

EffectiveMode ModeState::effective() const {
    if (maintenance_until_) return {Mode::kDisarmed, true, maintenance_until_};
    return {base_, false, std::nullopt};
}

ModeChange ModeState::set(Mode mode, std::string reason) {
    const EffectiveMode from = effective();
    base_ = mode;
    source_ = ModeSource::kRuntime;
    maintenance_until_.reset();
    return {from, effective(), std::move(reason)};
}

ModeChange ModeState::enter_maintenance(TimePoint now, Duration length, std::string reason) {
    const EffectiveMode from = effective();
    maintenance_until_ = now + length;
    return {from, effective(), std::move(reason)};
}

std::optional<ModeChange> ModeState::expire(TimePoint now) {
    if (!maintenance_until_ || now < *maintenance_until_) return std::nullopt;
    const EffectiveMode from = effective();
    maintenance_until_.reset();
    return ModeChange{from, effective(), "maintenance ended, re-armed"};
}

std::string_view to_string(ModeSource s) {
    return s == ModeSource::kConfig ? "config" : "runtime";
}

std::string mode_text(const EffectiveMode& m) {
    return m.maintenance ? "maintenance" : std::string(to_string(m.mode));
}

}  // namespace iohealth
