#include <fmt/format.h>

#include "config/config.h"
#include "config/settings.h"
#include "config/timings.h"

namespace iohealth {
namespace {

std::string mark(const ValueOrigin* origin) {
    if (!origin) return "(default)";
    switch (origin->kind) {
        case ValueOrigin::Kind::kDefault:
            return "(default)";
        case ValueOrigin::Kind::kDerived:
            return "(derived from io_timeout)";
        case ValueOrigin::Kind::kPreset:
            return fmt::format("(preset {})", origin->preset);
        case ValueOrigin::Kind::kSet:
            return fmt::format("(set at {}:{})", origin->file, origin->line);
    }
    __builtin_unreachable();  // -Wswitch checks that every Kind is listed
}

// One line per value. The origin is an INI comment (';' after whitespace), so the output
// loads back as a configuration.
class Writer {
  public:
    explicit Writer(const Provenance& provenance) : provenance_(provenance) {}

    void section(std::string_view name, std::string_view comment) {
        if (!out_.empty()) out_ += '\n';
        out_ += fmt::format("# {}\n[{}]\n", comment, name);
        origins_ = nullptr;
        if (const auto it = provenance_.find(name); it != provenance_.end()) origins_ = &it->second;
    }

    void value(std::string_view key, ValueKind kind, const SettingValue& value) {
        const ValueOrigin* origin = nullptr;
        if (origins_)
            if (const auto it = origins_->find(key); it != origins_->end()) origin = &it->second;
        out_ += fmt::format("{:<40} ; {}\n", fmt::format("{} = {}", key, format_value(kind, value)),
                            mark(origin));
    }

    void policy(const PathPolicy& p) {
        const Timings& t = p.timings;
        value("io_timeout", ValueKind::kDuration, t.io_timeout);
        for (const auto& [key, member] : kDerivedTimings)
            value(key, ValueKind::kDuration, t.*member);
        value("dead_witnesses", ValueKind::kWitnesses, p.witnesses);
        value("errors", ValueKind::kErrors, p.errors);
        value("heartbeat", ValueKind::kSwitch, p.heartbeat);
        value("contended_enter_ticks", ValueKind::kCount, p.contended_enter_ticks);
        std::vector<Action> actions;
        for (const LadderStep& step : p.ladder) actions.push_back(step.action);
        value("ladder", ValueKind::kLadder, actions);
        for (const LadderStep& step : p.ladder)
            value(fmt::format("hold.{}", to_string(step.action)), ValueKind::kDuration, step.hold);
        value("agent_unit", ValueKind::kUnitName, p.agent_unit);
        value("custom_command", ValueKind::kArgv, p.custom_command);
    }

    std::string take() { return std::move(out_); }

  private:
    const Provenance& provenance_;
    const OriginMap* origins_ = nullptr;
    std::string out_;
};

}  // namespace

std::string render_effective(const DaemonConfig& c) {
    Writer w(c.origins);
    w.section("daemon", "iohealthd effective configuration; each value says where it came from");
    w.value("mode", ValueKind::kMode, c.mode);
    w.value("tick", ValueKind::kTick, c.tick);
    w.value("record", ValueKind::kOptionalFile, c.record_path);
    w.value("discover", ValueKind::kBool, c.discover_block_devices);
    w.value("sysrq_trigger", ValueKind::kFile, c.sysrq_path);
    w.value("admin_group", ValueKind::kGroupName, c.admin_group);
    w.value("watchdog_device", ValueKind::kOptionalFile, c.watchdog_device);
    w.section("libvirt", "where the guests on this host are listed (empty uri: not at all)");
    w.value("uri", ValueKind::kLibvirtUri, c.libvirt_uri);
    w.section("cloudstack", "the CloudStack agent's fence settings (docs/cloudstack.md)");
    w.value("agent_properties", ValueKind::kOptionalFile, c.cloudstack_agent_properties);
    w.value("restart_agent_when_declined", ValueKind::kBool,
            c.cloudstack_restart_agent_when_declined);
    w.section("policy", "the policy of discovered disks, and the base of every [path]");
    w.policy(c.defaults);
    for (const PathConfig& p : c.paths) {
        const std::string name = fmt::format("path {}", p.name);
        w.section(name, fmt::format("{} {}", to_string(p.kind), p.target));
        const ValueKind kind = p.kind == PathKind::kDevice  ? ValueKind::kDevice
                               : p.kind == PathKind::kMount ? ValueKind::kFile
                                                            : ValueKind::kResource;
        w.value(to_string(p.kind), kind, p.target);
        w.value("preset", ValueKind::kPreset, p.preset);
        w.policy(p.policy);
    }
    return w.take();
}

}  // namespace iohealth
