#include "cloudstack/agent_properties.h"

#include <fmt/format.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace iohealth {
namespace {

constexpr std::string_view kRebootKey = "reboot.host.and.alert.management.on.heartbeat.timeout";
constexpr std::string_view kActionKey = "kvm.heartbeat.fence.action";

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\f';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Logical lines: comments dropped, continuations joined.
std::vector<std::string> logical_lines(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    bool continued = false;
    std::istringstream in{std::string(text)};
    for (std::string raw; std::getline(in, raw);) {
        std::string_view line = trim(raw);
        if (!continued && (line.empty() || line.front() == '#' || line.front() == '!')) continue;
        const bool more = !line.empty() && line.back() == '\\';
        if (more) line.remove_suffix(1);
        current += line;
        continued = more;
        if (!more) {
            out.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) out.push_back(std::move(current));
    return out;
}

// commons-beanutils BooleanConverter's words.
std::optional<bool> java_bool(std::string_view v) {
    std::string s(v);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string_view t : {"true", "yes", "y", "on", "1"})
        if (s == t) return true;
    for (std::string_view f : {"false", "no", "n", "off", "0"})
        if (s == f) return false;
    return std::nullopt;
}

}  // namespace

AgentFenceSettings parse_agent_properties(std::string_view text, std::string_view name) {
    std::map<std::string, std::string, std::less<>> values;  // the last occurrence wins
    for (const std::string& line : logical_lines(text)) {
        const std::size_t end = line.find_first_of("=: \t\f");
        std::string_view key = std::string_view(line).substr(0, end);
        std::string_view value;
        if (end != std::string::npos) {
            value = trim(std::string_view(line).substr(end));
            if (!value.empty() && (value.front() == '=' || value.front() == ':'))
                value = trim(value.substr(1));
        }
        values[std::string(key)] = std::string(value);
    }
    AgentFenceSettings s;
    if (const auto it = values.find(kRebootKey); it != values.end() && !it->second.empty()) {
        if (const auto b = java_bool(it->second))
            s.reboot_on_heartbeat_timeout = *b;
        else
            s.notes.push_back(
                fmt::format("{}: {} = '{}' is not a Boolean; the agent uses its "
                            "default, true",
                            name, kRebootKey, it->second));
    }
    if (const auto it = values.find(kActionKey); it != values.end()) s.fence_action = it->second;
    return s;
}

Expected<AgentFenceSettings> read_agent_properties(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
        return Expected<AgentFenceSettings>::failure(
            fmt::format("Failed to read '{}': {}", file.string(), std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_agent_properties(text.str(), file.string());
}

}  // namespace iohealth
