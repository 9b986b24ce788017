#include "core/policy.h"

#include "core/enum_table.h"

namespace iohealth {
namespace {
constexpr EnumTable<Action, 5> kActions{{
    {Action::kLogOnly, "log-only"},
    {Action::kRestartAgent, "restart-agent"},
    {Action::kGracefulReboot, "graceful-reboot"},
    {Action::kReboot, "reboot"},
    {Action::kCustom, "custom"},
}};
constexpr EnumTable<Mode, 3> kModes{{
    {Mode::kDryRun, "dry-run"},
    {Mode::kArmed, "armed"},
    {Mode::kDisarmed, "disarmed"},
}};
constexpr EnumTable<DeadWitnesses, 2> kWitnesses{{
    {DeadWitnesses::kBoth, "both"},
    {DeadWitnesses::kEither, "either"},
}};
constexpr EnumTable<ErrorPolicy, 2> kErrorPolicies{{
    {ErrorPolicy::kFence, "fence"},
    {ErrorPolicy::kDegrade, "degrade"},
}};
constexpr EnumTable<PathKind, 3> kKinds{{
    {PathKind::kDevice, "device"},
    {PathKind::kMount, "mount"},
    {PathKind::kDrbd, "drbd"},
}};
}  // namespace

std::string_view to_string(Action a) {
    return enum_name(kActions, a);
}
std::optional<Action> action_from_string(std::string_view s) {
    return enum_value(kActions, s);
}
std::string_view to_string(Mode m) {
    return enum_name(kModes, m);
}
std::optional<Mode> mode_from_string(std::string_view s) {
    return enum_value(kModes, s);
}
std::string_view to_string(DeadWitnesses w) {
    return enum_name(kWitnesses, w);
}
std::optional<DeadWitnesses> witnesses_from_string(std::string_view s) {
    return enum_value(kWitnesses, s);
}
std::string_view to_string(ErrorPolicy e) {
    return enum_name(kErrorPolicies, e);
}
std::optional<ErrorPolicy> error_policy_from_string(std::string_view s) {
    return enum_value(kErrorPolicies, s);
}
std::string_view to_string(PathKind k) {
    return enum_name(kKinds, k);
}

std::optional<PathKind> path_kind_from_string(std::string_view s) {
    return enum_value(kKinds, s);
}

}  // namespace iohealth
