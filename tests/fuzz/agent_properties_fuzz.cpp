// libFuzzer target for the CloudStack agent's agent.properties
// (cloudstack/agent_properties.h): any text parses without a throw, crash or sanitizer report.
#include <cstdint>
#include <string_view>

#include "cloudstack/agent_properties.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const iohealth::AgentFenceSettings s =
        iohealth::parse_agent_properties(text, "agent.properties");
    (void)s.fence_action.size();
    return 0;
}
