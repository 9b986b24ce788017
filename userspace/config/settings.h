#pragma once
// The configuration schema: which key is allowed in which section, how its value is parsed
// and printed. One table, used by the loader, the validator and render_effective.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace iohealth {

enum class ValueKind {
    kDuration,
    kTick,    // a duration within [kMinTick, kMaxTick]
    kBool,    // yes|no, on|off, true|false; printed yes|no
    kSwitch,  // the same values, printed on|off
    kCount,   // an integer >= 1
    kMode,
    kWitnesses,
    kErrors,
    kLadder,
    kPreset,
    kUnitName,      // a systemd unit name, may be empty
    kArgv,          // split on whitespace, double quotes group, no shell
    kFile,          // an absolute path
    kOptionalFile,  // an absolute path or empty (off)
    kDevice,        // an absolute path under /dev
    kResource,      // a DRBD resource name
    kGroupName,     // a Unix group name ([a-z_][a-z0-9_-]*), may be empty
    kLibvirtUri,    // scheme:// and no whitespace ("qemu:///system"), or empty (off)
};

// Which sections accept a key.
enum ScopeBits : unsigned {
    kInDaemon = 1,
    kInPolicy = 2,
    kInPath = 4,
    kInLibvirt = 8,
    kInCloudstack = 16
};

struct KeySpec {
    std::string_view key;
    ValueKind kind;
    unsigned scopes;
};

inline constexpr Duration kMinTick = 100ms;
inline constexpr Duration kMaxTick = 10s;

using SettingValue = std::variant<Duration, bool, int, Mode, DeadWitnesses, ErrorPolicy,
                                  std::vector<Action>, std::string, std::vector<std::string>>;

struct Setting {
    SettingValue value;
    ValueOrigin origin;
};
// One section's settings after merging layers: a later layer replaces a key.
using SettingMap = std::map<std::string, Setting, std::less<>>;

// The spec of `key`, or nullopt with `error` set (unknown key, or hold.<unknown action>).
// `hold.<action>` keys share one spec.
std::optional<KeySpec> find_key(std::string_view key, std::string& error);

// The value, or nullopt with `error` set to a message that quotes the input.
std::optional<SettingValue> parse_value(const KeySpec& spec, std::string_view text,
                                        std::string& error);

// Inverse of parse_value: parse_value(spec, format_value(spec.kind, v)) == v.
std::string format_value(ValueKind kind, const SettingValue& value);

// The built-in ladder: every rung, safe because the default mode is dry-run.
std::vector<Action> default_ladder();

// "log-only, restart-agent, graceful-reboot, reboot, custom": for messages.
std::string action_names();

// Path names become D-Bus object path parts and log fields: [A-Za-z0-9_.-]+.
bool valid_name(std::string_view name);

}  // namespace iohealth
