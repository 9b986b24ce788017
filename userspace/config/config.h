#pragma once
// iohealthd's configuration: INI files (libinih) turned into DaemonConfig, every value
// validated and traceable to the line that set it (or to the rule that derived it).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/policy.h"

namespace iohealth {

// Where an effective value came from, for `iohealthd --check-config` and error messages.
struct ValueOrigin {
    enum class Kind { kDefault, kDerived, kPreset, kSet };
    Kind kind = Kind::kDefault;
    std::string preset;  // kPreset: the preset's name
    std::string file;    // kSet: the file and line that set it
    int line = 0;
    std::string section;  // kSet: the section it was written in ("policy", "path nfs1", ...)
};

// Origins of one section's effective values, by key.
using OriginMap = std::map<std::string, ValueOrigin, std::less<>>;
// Origins by scope ("daemon", "policy", "path NAME"). A key that is absent was left at its
// built-in default.
using Provenance = std::map<std::string, OriginMap, std::less<>>;

struct DaemonConfig {
    Mode mode = Mode::kDryRun;           // [daemon] mode = dry-run|armed|disarmed
    Duration tick = 1s;                  // [daemon] tick; copied into every path's Timings.tick
    std::string record_path;             // [daemon] record = FILE (evidence recording, empty = off)
    bool discover_block_devices = true;  // [daemon] discover = yes|no: with no [path] sections,
                                         // watch this machine's disks, DRBD resources and NFS
                                         // mounts
    std::string sysrq_path = "/proc/sysrq-trigger";  // [daemon] sysrq_trigger = FILE
    std::string admin_group = "iohealth";  // [daemon] admin_group: may change mode, fence and
                                           // reload over the bus besides root (empty: root only)
    // [daemon] watchdog_device = FILE: a hardware watchdog armed with the graceful reboot's
    // deadline before the reboot is requested, so the host resets at the deadline even after
    // systemd stopped iohealthd (empty: none).
    std::string watchdog_device;
    std::string libvirt_uri = "qemu:///system";  // [libvirt] uri: where the guests are listed
                                                 // (empty: no VM tracking)
    // [cloudstack] agent_properties = FILE: the CloudStack agent's agent.properties, whose
    // heartbeat-fence settings cut the ladder run for RequestFence "heartbeat-timeout"
    // (cloudstack/heartbeat_fence.h); empty: the ladder runs as configured.
    std::string cloudstack_agent_properties;
    // [cloudstack] restart_agent_when_declined: a heartbeat fence request declined on the
    // evidence (cloudstack/fence_decision.h) also runs the ladder's restart-agent step.
    bool cloudstack_restart_agent_when_declined = false;
    PathPolicy defaults;  // [policy], applied to discovered paths and as base of every [path]
    // What a discovered DRBD resource or NFS mount gets: its preset, then [policy].
    std::map<std::string, PathPolicy, std::less<>> preset_defaults;
    std::vector<PathConfig> paths;  // [path NAME] sections, in order of first appearance
    Provenance origins;
};

struct ConfigError {
    std::string file;
    int line = 0;  // 0 when the value has no line (a default, a preset, a derived value)
    std::string section;
    std::string key;
    std::string message;
    // "FILE:LINE: [section] key: message"; ":LINE", "[section] " and "key: " are left out
    // when they are empty.
    std::string to_string() const;
};

struct ConfigResult {
    std::optional<DaemonConfig> config;  // set only when errors is empty
    std::vector<ConfigError> errors;
    std::vector<std::string> warnings;  // same format as ConfigError::to_string()
};

// main_file, then every *.conf in dropin_dir (default: main_file + ".d") sorted by name; later
// files win key by key. A missing drop-in directory is fine; a missing main file is an error.
ConfigResult load_config(const std::filesystem::path& main_file,
                         std::optional<std::filesystem::path> dropin_dir = std::nullopt);
// One INI text, named `name` in messages (tests and the fuzzer).
ConfigResult load_config_text(std::string_view text, std::string_view name = "<string>");

// Every effective value, per section, each followed by its origin as an INI comment:
// "; (default)", "; (derived from io_timeout)", "; (preset nfs)", "; (set at FILE:LINE)".
// The output is itself a valid configuration that loads to the same values.
std::string render_effective(const DaemonConfig& config);

}  // namespace iohealth
