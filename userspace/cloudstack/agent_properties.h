#pragma once
// The two CloudStack agent settings that decide what its storage-heartbeat fence may do, read
// from agent.properties (/etc/cloudstack/agent/agent.properties) the way the agent reads them:
// the last occurrence of a key wins, a blank value means the default, a Boolean is converted as
// commons-beanutils' BooleanConverter does (true/yes/y/on/1, false/no/n/off/0, any case, not
// trimmed), and anything else reads false, the converter's default in the agent
// (docs/cloudstack.md).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace iohealth {

struct AgentFenceSettings {
    // reboot.host.and.alert.management.on.heartbeat.timeout (default true): false means the
    // agent never fences on a heartbeat timeout.
    bool reboot_on_heartbeat_timeout = true;
    // kvm.heartbeat.fence.action (apache/cloudstack PR #13090), as written; empty = unset.
    std::string fence_action;
    // What was odd in the file (bad Boolean, ...), for the log.
    std::vector<std::string> notes;
};

// Java .properties text: `key=value`, `key: value` or `key value`; '#' and '!' start comments;
// a trailing backslash continues the line.
AgentFenceSettings parse_agent_properties(std::string_view text, std::string_view name);
// The file's settings, or why it cannot be read (missing, unreadable).
Expected<AgentFenceSettings> read_agent_properties(const std::filesystem::path& file);

}  // namespace iohealth
