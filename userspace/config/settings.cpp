#include "config/settings.h"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "config/duration.h"

namespace iohealth {
namespace {

constexpr unsigned kPolicyKey = kInPolicy | kInPath;

constexpr std::array<KeySpec, 33> kKeys{{
    // [daemon]
    {"mode", ValueKind::kMode, kInDaemon},
    {"tick", ValueKind::kTick, kInDaemon},
    {"record", ValueKind::kOptionalFile, kInDaemon},
    {"discover", ValueKind::kBool, kInDaemon},
    {"sysrq_trigger", ValueKind::kFile, kInDaemon},
    {"admin_group", ValueKind::kGroupName, kInDaemon},
    {"watchdog_device", ValueKind::kOptionalFile, kInDaemon},
    // [libvirt]
    {"uri", ValueKind::kLibvirtUri, kInLibvirt},
    // [policy] and [path NAME]
    {"io_timeout", ValueKind::kDuration, kPolicyKey},
    {"probe_interval", ValueKind::kDuration, kPolicyKey},
    {"slow_io", ValueKind::kDuration, kPolicyKey},
    {"stall_after", ValueKind::kDuration, kPolicyKey},
    {"warn_after", ValueKind::kDuration, kPolicyKey},
    {"dead_after", ValueKind::kDuration, kPolicyKey},
    {"graceful_deadline", ValueKind::kDuration, kPolicyKey},
    {"recover_after", ValueKind::kDuration, kPolicyKey},
    {"step_hold", ValueKind::kDuration, kPolicyKey},
    {"repeat_interval", ValueKind::kDuration, kPolicyKey},
    {"custom_timeout", ValueKind::kDuration, kPolicyKey},
    {"dead_witnesses", ValueKind::kWitnesses, kPolicyKey},
    {"errors", ValueKind::kErrors, kPolicyKey},
    {"heartbeat", ValueKind::kSwitch, kPolicyKey},
    {"contended_enter_ticks", ValueKind::kCount, kPolicyKey},
    {"ladder", ValueKind::kLadder, kPolicyKey},
    {"agent_unit", ValueKind::kUnitName, kPolicyKey},
    {"custom_command", ValueKind::kArgv, kPolicyKey},
    // [path NAME] only
    {"device", ValueKind::kDevice, kInPath},
    {"mount", ValueKind::kFile, kInPath},
    {"drbd", ValueKind::kResource, kInPath},
    {"preset", ValueKind::kPreset, kInPath},
    // [cloudstack]
    {"agent_properties", ValueKind::kOptionalFile, kInCloudstack},
    {"restart_agent_when_declined", ValueKind::kBool, kInCloudstack},
    // hold.<action> is matched by prefix in find_key(); this row carries its kind.
    {"hold.", ValueKind::kDuration, kPolicyKey},
}};

constexpr std::array<Action, 5> kAllActions{Action::kLogOnly, Action::kRestartAgent,
                                            Action::kGracefulReboot, Action::kReboot,
                                            Action::kCustom};

bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::optional<bool> parse_bool(std::string_view s) {
    if (s == "yes" || s == "on" || s == "true") return true;
    if (s == "no" || s == "off" || s == "false") return false;
    return std::nullopt;
}

std::optional<std::vector<Action>> parse_ladder(std::string_view text, std::string& error) {
    std::vector<Action> out;
    if (trim(text).empty()) {
        error = "ladder is empty (it needs at least log-only)";
        return std::nullopt;
    }
    while (true) {
        const std::size_t comma = text.find(',');
        const std::string_view name = trim(text.substr(0, comma));
        if (name.empty()) {
            error = "empty step in ladder (two commas, or a comma at an end)";
            return std::nullopt;
        }
        const auto action = action_from_string(name);
        if (!action) {
            error =
                fmt::format("unknown action '{}' in ladder (expected {})", name, action_names());
            return std::nullopt;
        }
        if (std::find(out.begin(), out.end(), *action) != out.end()) {
            error = fmt::format("action '{}' appears twice in ladder", name);
            return std::nullopt;
        }
        if (!out.empty() && out.back() == Action::kReboot) {
            error =
                "'reboot' must be the last step of the ladder: nothing runs after a sysrq "
                "reboot";
            return std::nullopt;
        }
        out.push_back(*action);
        if (comma == std::string_view::npos) return out;
        text.remove_prefix(comma + 1);
    }
}

// Whitespace separates arguments; double quotes group, and inside them \" and \\ escape.
std::optional<std::vector<std::string>> parse_argv(std::string_view text, std::string& error) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (true) {
        while (i < text.size() && is_space(text[i])) ++i;
        if (i == text.size()) break;
        std::string arg;
        while (i < text.size() && !is_space(text[i])) {
            if (text[i] != '"') {
                arg += text[i++];
                continue;
            }
            for (++i;; ++i) {
                if (i == text.size()) {
                    error = fmt::format("unterminated double quote in '{}'", text);
                    return std::nullopt;
                }
                if (text[i] == '"') break;
                if (text[i] == '\\' && i + 1 < text.size() &&
                    (text[i + 1] == '"' || text[i + 1] == '\\'))
                    ++i;
                arg += text[i];
            }
            ++i;
        }
        out.push_back(std::move(arg));
    }
    if (!out.empty() && (out.front().empty() || out.front().front() != '/')) {
        error = fmt::format(
            "custom_command must start with an absolute path (no shell, no "
            "PATH lookup), got '{}'",
            out.front());
        return std::nullopt;
    }
    return out;
}

// A spelling parse_argv() reads back as `arg`, kept short so that a rendered command fits on
// one line: bare when nothing needs quoting (a backslash outside quotes is literal), else
// quoted, escaping only a '"' and a backslash that would otherwise escape.
std::string quote_arg(std::string_view arg) {
    const bool plain =
        !arg.empty() && arg.front() != ';' &&
        std::none_of(arg.begin(), arg.end(), [](char c) { return is_space(c) || c == '"'; });
    if (plain) return std::string(arg);
    std::string out = "\"";
    for (std::size_t i = 0; i < arg.size(); ++i) {
        const bool escapes_next = i + 1 == arg.size() || arg[i + 1] == '"' || arg[i + 1] == '\\';
        if (arg[i] == '"' || (arg[i] == '\\' && escapes_next)) out += '\\';
        out += arg[i];
    }
    return out + '"';
}

bool has_space(std::string_view s) {
    return std::any_of(s.begin(), s.end(), is_space);
}

// The portable subset useradd/groupadd accept by default (NAME_REGEX), at most 32 bytes.
// What virConnectOpen() takes: "driver[+transport]://[host]/path[?query]".
bool valid_libvirt_uri(std::string_view s) {
    const std::size_t scheme = s.find("://");
    if (scheme == std::string_view::npos || scheme == 0 || has_space(s)) return false;
    return std::isalpha(static_cast<unsigned char>(s.front())) &&
           std::all_of(s.begin(), s.begin() + std::ptrdiff_t(scheme), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' ||
                      c == '.';
           });
}

bool valid_group_name(std::string_view s) {
    auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    return s.size() <= 32 && (lower(s.front()) || s.front() == '_') &&
           std::all_of(s.begin() + 1, s.end(),
                       [&](char c) { return lower(c) || digit(c) || c == '_' || c == '-'; });
}

}  // namespace

std::vector<Action> default_ladder() {
    return {Action::kLogOnly, Action::kRestartAgent, Action::kGracefulReboot, Action::kReboot};
}

std::string action_names() {
    std::string out;
    for (Action a : kAllActions) out += fmt::format("{}{}", out.empty() ? "" : ", ", to_string(a));
    return out;
}

bool valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

std::optional<KeySpec> find_key(std::string_view key, std::string& error) {
    if (key.empty()) {
        error = "missing key name before '='";
        return std::nullopt;
    }
    if (key.substr(0, 5) == "hold.") {
        if (!action_from_string(key.substr(5))) {
            error = fmt::format("unknown action '{}' in '{}' (expected {})", key.substr(5), key,
                                action_names());
            return std::nullopt;
        }
        return kKeys.back();
    }
    for (const KeySpec& spec : kKeys)
        if (spec.key == key && spec.key != "hold.") return spec;
    error = "unknown key";
    return std::nullopt;
}

std::optional<SettingValue> parse_value(const KeySpec& spec, std::string_view text,
                                        std::string& error) {
    switch (spec.kind) {
        case ValueKind::kDuration:
        case ValueKind::kTick: {
            DurationParse d = parse_duration(text);
            if (!d.value) {
                error = std::move(d.error);
                return std::nullopt;
            }
            if (spec.kind == ValueKind::kTick && (*d.value < kMinTick || *d.value > kMaxTick)) {
                error = fmt::format("tick ({}) must be between {} and {}", text,
                                    format_duration(kMinTick), format_duration(kMaxTick));
                return std::nullopt;
            }
            return *d.value;
        }
        case ValueKind::kBool:
        case ValueKind::kSwitch:
            if (auto b = parse_bool(text)) return *b;
            error =
                fmt::format("'{}' is not a boolean (expected yes|no, on|off, true|false)", text);
            return std::nullopt;
        case ValueKind::kCount: {
            int n = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
            if (ec != std::errc{} || end != text.data() + text.size() || n < 1) {
                error = fmt::format("'{}' is not an integer >= 1", text);
                return std::nullopt;
            }
            return n;
        }
        case ValueKind::kMode:
            if (auto m = mode_from_string(text)) return *m;
            error = fmt::format("unknown mode '{}' (expected dry-run, armed or disarmed)", text);
            return std::nullopt;
        case ValueKind::kWitnesses:
            if (auto w = witnesses_from_string(text)) return *w;
            error = fmt::format("unknown value '{}' (expected both or either)", text);
            return std::nullopt;
        case ValueKind::kErrors:
            if (auto e = error_policy_from_string(text)) return *e;
            error = fmt::format("unknown value '{}' (expected fence or degrade)", text);
            return std::nullopt;
        case ValueKind::kLadder:
            if (auto l = parse_ladder(text, error)) return std::move(*l);
            return std::nullopt;
        case ValueKind::kPreset:
            if (text == "block" || text == "drbd" || text == "nfs") return std::string(text);
            error = fmt::format("unknown preset '{}' (expected block, drbd or nfs)", text);
            return std::nullopt;
        case ValueKind::kUnitName:
            if (has_space(text) || text.find('/') != std::string_view::npos) {
                error = fmt::format("'{}' is not a systemd unit name", text);
                return std::nullopt;
            }
            return std::string(text);
        case ValueKind::kArgv:
            if (auto argv = parse_argv(text, error)) return std::move(*argv);
            return std::nullopt;
        case ValueKind::kOptionalFile:
            if (text.empty()) return std::string();
            [[fallthrough]];
        case ValueKind::kFile:
            if (text.empty() || text.front() != '/') {
                error = fmt::format("'{}' is not an absolute path", text);
                return std::nullopt;
            }
            return std::string(text);
        case ValueKind::kDevice:
            if (text.substr(0, 5) != "/dev/" || text.size() == 5) {
                error = fmt::format("'{}' is not a device path under /dev/", text);
                return std::nullopt;
            }
            return std::string(text);
        case ValueKind::kResource:
            if (!valid_name(text)) {
                error = fmt::format("'{}' is not a DRBD resource name ([A-Za-z0-9_.-]+)", text);
                return std::nullopt;
            }
            return std::string(text);
        case ValueKind::kGroupName:
            if (!text.empty() && !valid_group_name(text)) {
                error = fmt::format(
                    "'{}' is not a group name ([a-z_][a-z0-9_-]*, at most 32 characters; empty "
                    "= root only)",
                    text);
                return std::nullopt;
            }
            return std::string(text);
        case ValueKind::kLibvirtUri:
            if (!text.empty() && !valid_libvirt_uri(text)) {
                error = fmt::format(
                    "'{}' is not a libvirt URI (expected driver://[host]/path, e.g. "
                    "qemu:///system; empty = no VM tracking)",
                    text);
                return std::nullopt;
            }
            return std::string(text);
    }
    __builtin_unreachable();  // every ValueKind returns above; -Wswitch checks the list
}

std::string format_value(ValueKind kind, const SettingValue& value) {
    if (const auto* d = std::get_if<Duration>(&value)) return format_duration(*d);
    if (const auto* b = std::get_if<bool>(&value)) {
        if (kind == ValueKind::kSwitch) return *b ? "on" : "off";
        return *b ? "yes" : "no";
    }
    if (const auto* n = std::get_if<int>(&value)) return std::to_string(*n);
    if (const auto* m = std::get_if<Mode>(&value)) return std::string(to_string(*m));
    if (const auto* w = std::get_if<DeadWitnesses>(&value)) return std::string(to_string(*w));
    if (const auto* e = std::get_if<ErrorPolicy>(&value)) return std::string(to_string(*e));
    if (const auto* l = std::get_if<std::vector<Action>>(&value)) {
        std::string out;
        for (Action a : *l) out += fmt::format("{}{}", out.empty() ? "" : ", ", to_string(a));
        return out;
    }
    if (const auto* s = std::get_if<std::string>(&value)) return *s;
    std::string out;
    for (const std::string& arg : std::get<std::vector<std::string>>(value))
        out += (out.empty() ? "" : " ") + quote_arg(arg);
    return out;
}

}  // namespace iohealth
