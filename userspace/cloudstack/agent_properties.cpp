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

// java.util.Properties drops the whitespace before a key and between the separator and the
// value, never after the value: "true  " stays "true  ".
std::string_view trim_front(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    return s;
}

// Logical lines: comments dropped, continuations joined.
std::vector<std::string> logical_lines(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    bool continued = false;
    std::istringstream in{std::string(text)};
    for (std::string raw; std::getline(in, raw);) {
        if (!raw.empty() && raw.back() == '\r') raw.pop_back();  // a CRLF file
        std::string_view line = trim_front(raw);
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

// commons-beanutils BooleanConverter's words, compared in lower case, untrimmed.
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
            value = trim_front(std::string_view(line).substr(end));
            if (!value.empty() && (value.front() == '=' || value.front() == ':'))
                value = trim_front(value.substr(1));
        }
        values[std::string(key)] = std::string(value);
    }
    AgentFenceSettings s;
    // The agent (AgentPropertiesFileHandler) takes a blank value as the default (true) and
    // converts the rest with ConvertUtils, whose Boolean converter answers false to anything
    // it does not recognise (ConvertUtilsBean registers it with the default Boolean.FALSE).
    if (const auto it = values.find(kRebootKey);
        it != values.end() && it->second.find_first_not_of(" \t\f") != std::string::npos) {
        if (const auto b = java_bool(it->second)) {
            s.reboot_on_heartbeat_timeout = *b;
        } else {
            s.reboot_on_heartbeat_timeout = false;
            s.notes.push_back(
                fmt::format("{}: {} = '{}' is not a Boolean the agent recognises; it reads "
                            "false (commons-beanutils' default), so the agent never fences",
                            name, kRebootKey, it->second));
        }
    }
    // Trailing blanks dropped: a stray blank must not turn a gentler action into the default
    // hard reboot.
    if (const auto it = values.find(kActionKey); it != values.end()) {
        std::string_view v = it->second;
        while (!v.empty() && is_blank(v.back())) v.remove_suffix(1);
        s.fence_action = std::string(v);
    }
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
