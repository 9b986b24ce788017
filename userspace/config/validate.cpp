#include "config/validate.h"

#include <fmt/format.h>
#include <algorithm>
#include <filesystem>

#include "config/timings.h"

namespace iohealth {

enum class Validator::Rule {
    kIoTimeoutTick,
    kProbePositive,
    kSlowPositive,
    kStallTick,
    kStallProbe,
    kWarnStall,
    kDeadStall,
    kWarnDead,
    kDeadIoTimeout,
    kSlowStall,
    kRecoverTick,
    kGracefulTick,
    kCustomTimeoutTick,
    kHeartbeatWitnesses,
    kCustomCommand,
    kAgentUnit,
    kHoldUnused,
    kArmedEither,
    kFenceTarget,
};

struct Validator::Scope {
    std::string_view section;
    const OriginMap& origins;
    const ValueOrigin& tick_origin;

    ValueOrigin::Kind kind_of(std::string_view key) const {
        if (key == "tick") return tick_origin.kind;
        const auto it = origins.find(key);
        return it == origins.end() ? ValueOrigin::Kind::kDefault : it->second.kind;
    }
    const ValueOrigin* origin_of(std::string_view key) const {
        if (key == "tick") return &tick_origin;
        const auto it = origins.find(key);
        return it == origins.end() ? nullptr : &it->second;
    }
};

namespace {

bool is_derived_timing(std::string_view key) {
    return std::any_of(kDerivedTimings.begin(), kDerivedTimings.end(),
                       [&](const DerivedTiming& t) { return t.key == key; });
}

bool has(const std::vector<LadderStep>& ladder, Action a) {
    return std::any_of(ladder.begin(), ladder.end(),
                       [&](const LadderStep& s) { return s.action == a; });
}

std::string fd(Duration d) {
    return format_duration(d);
}

}  // namespace

// Names the key an operator can change: the one set explicitly (its line can be shown), else
// the one a preset set, else io_timeout when both sides were derived from it.
void Validator::report(const Scope& scope, Rule rule, std::string_view subject,
                       std::string_view other, std::string message, bool warning) {
    using Kind = ValueOrigin::Kind;
    std::string_view key = subject;
    if (scope.kind_of(subject) == Kind::kSet) {
        key = subject;
    } else if (!other.empty() && scope.kind_of(other) == Kind::kSet) {
        key = other;
    } else if (scope.kind_of(subject) == Kind::kPreset) {
        key = subject;
    } else if (!other.empty() && scope.kind_of(other) == Kind::kPreset) {
        key = other;
    } else if (is_derived_timing(subject) || is_derived_timing(other)) {
        key = "io_timeout";
    }
    ConfigError e{main_file_, 0, std::string(key == "tick" ? "daemon" : scope.section),
                  std::string(key), std::move(message)};
    if (const ValueOrigin* o = scope.origin_of(key); o && o->kind == Kind::kSet) {
        e.file = o->file;
        e.line = o->line;
        e.section = o->section;
    }
    if (e.section != scope.section && scope.section != "policy")
        e.message += fmt::format(" (for [{}])", scope.section);
    const auto id = std::make_tuple(e.file, e.line, e.section, e.key, static_cast<int>(rule));
    if (!reported_.insert(id).second) return;
    if (warning)
        warnings_.push_back(e.to_string());
    else
        errors_.push_back(std::move(e));
}

void Validator::check_policy(std::string_view section, std::optional<PathKind> kind,
                             const PathPolicy& policy, const OriginMap& origins,
                             const ValueOrigin& tick_origin, Mode mode) {
    const Scope s{section, origins, tick_origin};
    const Timings& t = policy.timings;

    // --- Timings against the tick: the daemon only looks once per tick.
    if (t.io_timeout < 2 * t.tick)
        report(s, Rule::kIoTimeoutTick, "io_timeout", "tick",
               fmt::format("io_timeout ({}) must be at least twice the tick ({})", fd(t.io_timeout),
                           fd(t.tick)));
    if (t.probe_interval <= Duration::zero())
        report(s, Rule::kProbePositive, "probe_interval", "",
               "probe_interval must be greater than 0");
    if (t.slow_io <= Duration::zero())
        report(s, Rule::kSlowPositive, "slow_io", "", "slow_io must be greater than 0");
    if (t.stall_after < 2 * t.tick)
        report(s, Rule::kStallTick, "stall_after", "tick",
               fmt::format("stall_after ({}) must be at least twice the tick ({}): one late "
                           "sample would look like a stall",
                           fd(t.stall_after), fd(t.tick)));
    if (t.recover_after < t.tick)
        report(s, Rule::kRecoverTick, "recover_after", "tick",
               fmt::format("recover_after ({}) must be at least the tick ({})", fd(t.recover_after),
                           fd(t.tick)));
    if (t.graceful_deadline < t.tick)
        report(s, Rule::kGracefulTick, "graceful_deadline", "tick",
               fmt::format("graceful_deadline ({}) must be at least the tick ({})",
                           fd(t.graceful_deadline), fd(t.tick)));
    if (t.custom_timeout < t.tick)
        report(s, Rule::kCustomTimeoutTick, "custom_timeout", "tick",
               fmt::format("custom_timeout ({}) must be at least the tick ({})",
                           fd(t.custom_timeout), fd(t.tick)));

    // --- The order of the thresholds: slow < stall < warn < dead, and dead beyond one I/O.
    if (t.stall_after <= t.probe_interval)
        report(s, Rule::kStallProbe, "stall_after", "probe_interval",
               fmt::format("stall_after ({}) must be longer than probe_interval ({}): a healthy "
                           "heartbeat cadence would look like a stall",
                           fd(t.stall_after), fd(t.probe_interval)));
    if (t.slow_io >= t.stall_after)
        report(s, Rule::kSlowStall, "slow_io", "stall_after",
               fmt::format("slow_io ({}) must be shorter than stall_after ({})", fd(t.slow_io),
                           fd(t.stall_after)));
    if (t.warn_after < t.stall_after)
        report(s, Rule::kWarnStall, "warn_after", "stall_after",
               fmt::format("warn_after ({}) must not be shorter than stall_after ({})",
                           fd(t.warn_after), fd(t.stall_after)));
    if (t.dead_after <= t.stall_after)
        report(s, Rule::kDeadStall, "dead_after", "stall_after",
               fmt::format("dead_after ({}) must be longer than stall_after ({}): dead deadline "
                           "shorter than the stall threshold",
                           fd(t.dead_after), fd(t.stall_after)));
    if (t.warn_after >= t.dead_after)
        report(s, Rule::kWarnDead, "warn_after", "dead_after",
               fmt::format("warn_after ({}) must be shorter than dead_after ({}): the warning "
                           "must come before the fence",
                           fd(t.warn_after), fd(t.dead_after)));
    if (t.dead_after <= t.io_timeout)
        report(s, Rule::kDeadIoTimeout, "dead_after", "io_timeout",
               fmt::format("dead_after ({}) must be longer than io_timeout ({}): one slow I/O "
                           "would look like a dead path",
                           fd(t.dead_after), fd(t.io_timeout)));

    // --- Witnesses and the ladder.
    if (!policy.heartbeat && policy.witnesses == DeadWitnesses::kBoth)
        report(s, Rule::kHeartbeatWitnesses, "heartbeat", "dead_witnesses",
               "heartbeat = off with dead_witnesses = both: DEAD could never be reached");
    if (has(policy.ladder, Action::kCustom) && policy.custom_command.empty())
        report(s, Rule::kCustomCommand, "ladder", "custom_command",
               "the ladder has 'custom' but custom_command is not set");
    if (has(policy.ladder, Action::kRestartAgent) && policy.agent_unit.empty())
        report(s, Rule::kAgentUnit, "ladder", "agent_unit",
               "the ladder has 'restart-agent' but agent_unit is empty");

    // --- Warnings: allowed, but probably not meant.
    for (const auto& [key, origin] : origins) {
        if (key.rfind("hold.", 0) != 0) continue;
        const auto action = action_from_string(std::string_view(key).substr(5));
        if (action && !has(policy.ladder, *action))
            report(s, Rule::kHoldUnused, key, "",
                   fmt::format("{} is not in the ladder, ignoring", to_string(*action)),
                   /*warning=*/true);
    }
    if (mode == Mode::kArmed && !policy.ladder.empty() &&
        policy.ladder.back().action == Action::kReboot &&
        policy.witnesses == DeadWitnesses::kEither)
        report(s, Rule::kArmedEither, "dead_witnesses", "",
               "mode = armed, the ladder ends in reboot and dead_witnesses = either: a single "
               "witness can reboot this host",
               /*warning=*/true);
    // DESIGN.md's targets: fence a dead block/DRBD path within 30 s, an NFS one within 90 s.
    const bool nfs = kind == PathKind::kMount;
    const Duration target = nfs ? 90s : 30s;
    if (t.dead_after > target)
        report(s, Rule::kFenceTarget, "dead_after", "",
               fmt::format("dead_after ({}) is later than the {} fence target for {} paths",
                           fd(t.dead_after), fd(target), nfs ? "mount" : "block and DRBD"),
               /*warning=*/true);
}

void Validator::check_agent_properties(const std::string& file, const OriginMap& origins) {
    if (file.empty()) return;
    const auto it = origins.find("agent_properties");
    const ValueOrigin o = it == origins.end() ? ValueOrigin{} : it->second;
    ConfigError e{o.file.empty() ? main_file_ : o.file, o.line, "cloudstack", "agent_properties",
                  ""};
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (std::filesystem::is_directory(status)) {
        e.message = fmt::format("'{}' is a directory, not the agent's agent.properties", file);
        errors_.push_back(std::move(e));
    } else if (!std::filesystem::exists(status)) {
        e.message = fmt::format(
            "'{}' does not exist (yet); until it does, a heartbeat-timeout fence runs the "
            "configured ladder uncut",
            file);
        warnings_.push_back(e.to_string());
    }
}

}  // namespace iohealth
