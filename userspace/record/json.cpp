#include "record/json.h"

#include "core/enum_table.h"

#include <stdexcept>

namespace iohealth {
namespace {
using nlohmann::json;

json opt(const std::optional<TimePoint>& t) {
    return t ? json(to_usec(*t)) : json(nullptr);
}
std::optional<TimePoint> opt_time(const json& j) {
    if (j.is_null()) return std::nullopt;
    return from_usec(j.get<std::int64_t>());
}
Duration dur(const json& j) {
    return Duration{j.get<std::int64_t>()};
}

template <typename E, typename F>
E parse_enum(const json& j, F from_string, const char* what) {
    const auto s = j.get<std::string>();
    if (auto v = from_string(s)) return *v;
    throw std::runtime_error("unknown " + std::string(what) + " '" + s + "'");
}

constexpr EnumTable<ProbeState, 3> kProbeStates{{
    {ProbeState::kAbsent, "absent"},
    {ProbeState::kIdle, "idle"},
    {ProbeState::kPending, "pending"},
}};
}  // namespace

json to_json(const Sample& s) {
    const auto& k = s.kernel;
    json slots = json::array();
    for (int i = 0; i < LatencyHistogram::kSlots; ++i)
        if (k.latency.slots()[i] != 0) slots.push_back({i, k.latency.slots()[i]});
    const auto& h = s.heartbeat;
    const auto& f = s.facts;
    return {
        {"at", to_usec(s.at)},
        {"kernel",
         {{"available", k.available},
          {"issued", k.issued},
          {"completed", k.completed},
          {"errors", {k.errors.io, k.errors.timeout, k.errors.other}},
          {"bytes", k.bytes},
          {"latency", slots},
          {"in_flight", k.in_flight},
          {"last_completion", opt(k.last_completion)},
          {"oldest_in_flight_age",
           k.oldest_in_flight_age ? json(k.oldest_in_flight_age->count()) : json(nullptr)},
          {"oldest_in_flight_direction", k.oldest_in_flight_direction
                                             ? json(to_string(*k.oldest_in_flight_direction))
                                             : json(nullptr)}}},
        {"heartbeat",
         {{"state", enum_name(kProbeStates, h.state)},
          {"last_success", opt(h.last_success)},
          {"pending_since", opt(h.pending_since)},
          {"failing_since", opt(h.failing_since)},
          {"last_failed", h.last_failed},
          {"last_error", h.last_error},
          {"last_latency", h.last_latency.count()},
          {"failures", h.failures}}},
        {"facts",
         {{"resync_active", f.resync_active},
          {"resync_advancing", f.resync_advancing},
          {"io_suspended", f.io_suspended},
          {"suspended_reason", f.suspended_reason},
          {"quorum_lost", f.quorum_lost},
          {"vm_io_errors", f.vm_io_errors},
          {"vm_io_error", f.vm_io_error},
          {"vms_paused_on_io_error", f.vms_paused_on_io_error},
          {"waiting_on", f.waiting_on},
          {"lower_layer_deadline", opt(f.lower_layer_deadline)},
          {"lower_layer_rule", f.lower_layer_rule},
          {"server_answering", f.server_answering ? json(*f.server_answering) : json(nullptr)},
          {"server_last_reply", opt(f.server_last_reply)},
          {"device_fate", to_string(f.device_fate)},
          {"device_detail", f.device_detail},
          {"note", f.note}}},
    };
}

Sample sample_from_json(const json& j) {
    Sample s;
    s.at = from_usec(j.at("at").get<std::int64_t>());
    const auto& k = j.at("kernel");
    s.kernel.available = k.at("available").get<bool>();
    s.kernel.issued = k.at("issued").get<std::uint64_t>();
    s.kernel.completed = k.at("completed").get<std::uint64_t>();
    const auto& e = k.at("errors");
    s.kernel.errors = {e.at(0).get<std::uint64_t>(), e.at(1).get<std::uint64_t>(),
                       e.at(2).get<std::uint64_t>()};
    s.kernel.bytes = k.at("bytes").get<std::uint64_t>();
    for (const auto& slot : k.at("latency")) {
        const int i = slot.at(0).get<int>();
        if (i < 0 || i >= LatencyHistogram::kSlots)
            throw std::runtime_error("latency slot " + std::to_string(i) + " out of range");
        s.kernel.latency.add_to_slot(i, slot.at(1).get<std::uint64_t>());
    }
    s.kernel.in_flight = k.at("in_flight").get<std::uint32_t>();
    s.kernel.last_completion = opt_time(k.at("last_completion"));
    if (!k.at("oldest_in_flight_age").is_null())
        s.kernel.oldest_in_flight_age = dur(k.at("oldest_in_flight_age"));
    // Absent in recordings made before the stuck-request detection.
    if (const auto d = k.find("oldest_in_flight_direction"); d != k.end() && !d->is_null()) {
        const auto v = d->get<std::string>();
        if (v != "read" && v != "write")
            throw std::runtime_error("oldest_in_flight_direction '" + v +
                                     "' is neither read nor write");
        s.kernel.oldest_in_flight_direction =
            v == "read" ? IoDirection::kRead : IoDirection::kWrite;
    }
    const auto& h = j.at("heartbeat");
    s.heartbeat.state = parse_enum<ProbeState>(
        h.at("state"), [](std::string_view v) { return enum_value(kProbeStates, v); },
        "probe state");
    s.heartbeat.last_success = opt_time(h.at("last_success"));
    s.heartbeat.pending_since = opt_time(h.at("pending_since"));
    s.heartbeat.failing_since = opt_time(h.at("failing_since"));
    s.heartbeat.last_failed = h.at("last_failed").get<bool>();
    s.heartbeat.last_error = h.at("last_error").get<std::string>();
    s.heartbeat.last_latency = dur(h.at("last_latency"));
    s.heartbeat.failures = h.at("failures").get<std::uint64_t>();
    const auto& f = j.at("facts");
    s.facts.resync_active = f.at("resync_active").get<bool>();
    s.facts.resync_advancing = f.at("resync_advancing").get<bool>();
    s.facts.io_suspended = f.at("io_suspended").get<bool>();
    s.facts.suspended_reason = f.at("suspended_reason").get<std::string>();
    s.facts.quorum_lost = f.at("quorum_lost").get<bool>();
    s.facts.note = f.at("note").get<std::string>();
    // Recordings made before the libvirt source have no guest facts.
    s.facts.vm_io_errors = f.value("vm_io_errors", std::uint64_t{0});
    s.facts.vm_io_error = f.value("vm_io_error", std::string());
    s.facts.vms_paused_on_io_error = f.value("vms_paused_on_io_error", std::vector<std::string>{});
    // Added after the first recordings: absent means "not known", as in those recordings.
    s.facts.waiting_on = f.value("waiting_on", "");
    if (f.contains("lower_layer_deadline"))
        s.facts.lower_layer_deadline = opt_time(f.at("lower_layer_deadline"));
    s.facts.lower_layer_rule = f.value("lower_layer_rule", "");
    if (f.contains("server_answering") && !f.at("server_answering").is_null())
        s.facts.server_answering = f.at("server_answering").get<bool>();
    if (f.contains("server_last_reply"))
        s.facts.server_last_reply = opt_time(f.at("server_last_reply"));
    if (f.contains("device_fate"))
        s.facts.device_fate =
            parse_enum<DeviceFate>(f.at("device_fate"), device_fate_from_string, "device fate");
    s.facts.device_detail = f.value("device_detail", "");
    return s;
}

json to_json(const PathConfig& p) {
    const Timings& t = p.policy.timings;
    json ladder = json::array();
    for (const auto& step : p.policy.ladder)
        ladder.push_back({{"action", to_string(step.action)}, {"hold", step.hold.count()}});
    return {
        {"name", p.name},
        {"kind", to_string(p.kind)},
        {"target", p.target},
        {"preset", p.preset},
        {"timings",
         {{"io_timeout", t.io_timeout.count()},
          {"tick", t.tick.count()},
          {"probe_interval", t.probe_interval.count()},
          {"slow_io", t.slow_io.count()},
          {"stall_after", t.stall_after.count()},
          {"warn_after", t.warn_after.count()},
          {"dead_after", t.dead_after.count()},
          {"graceful_deadline", t.graceful_deadline.count()},
          {"recover_after", t.recover_after.count()},
          {"step_hold", t.step_hold.count()},
          {"repeat_interval", t.repeat_interval.count()},
          {"custom_timeout", t.custom_timeout.count()}}},
        {"witnesses", to_string(p.policy.witnesses)},
        {"errors", to_string(p.policy.errors)},
        {"heartbeat", p.policy.heartbeat},
        {"contended_enter_ticks", p.policy.contended_enter_ticks},
        {"ladder", ladder},
        {"agent_unit", p.policy.agent_unit},
        {"custom_command", p.policy.custom_command},
    };
}

PathConfig path_from_json(const json& j) {
    PathConfig p;
    p.name = j.at("name").get<std::string>();
    p.kind = parse_enum<PathKind>(j.at("kind"), path_kind_from_string, "path kind");
    p.target = j.at("target").get<std::string>();
    p.preset = j.at("preset").get<std::string>();
    const auto& t = j.at("timings");
    Timings& x = p.policy.timings;
    x.io_timeout = dur(t.at("io_timeout"));
    x.tick = dur(t.at("tick"));
    x.probe_interval = dur(t.at("probe_interval"));
    x.slow_io = dur(t.at("slow_io"));
    x.stall_after = dur(t.at("stall_after"));
    x.warn_after = dur(t.at("warn_after"));
    x.dead_after = dur(t.at("dead_after"));
    x.graceful_deadline = dur(t.at("graceful_deadline"));
    x.recover_after = dur(t.at("recover_after"));
    x.step_hold = dur(t.at("step_hold"));
    x.repeat_interval = dur(t.at("repeat_interval"));
    x.custom_timeout = dur(t.at("custom_timeout"));
    p.policy.witnesses =
        parse_enum<DeadWitnesses>(j.at("witnesses"), witnesses_from_string, "witnesses");
    p.policy.errors = parse_enum<ErrorPolicy>(j.at("errors"), error_policy_from_string, "errors");
    p.policy.heartbeat = j.at("heartbeat").get<bool>();
    p.policy.contended_enter_ticks = j.at("contended_enter_ticks").get<int>();
    for (const auto& step : j.at("ladder"))
        p.policy.ladder.push_back(
            {parse_enum<Action>(step.at("action"), action_from_string, "action"),
             dur(step.at("hold"))});
    p.policy.agent_unit = j.at("agent_unit").get<std::string>();
    p.policy.custom_command = j.at("custom_command").get<std::vector<std::string>>();
    return p;
}

json to_json(const ActionResult& r) {
    return {{"id", r.id},
            {"path", r.path},
            {"action", to_string(r.action)},
            {"ok", r.ok},
            {"detail", r.detail}};
}

ActionResult result_from_json(const json& j) {
    return {j.at("id").get<std::uint64_t>(), j.at("path").get<std::string>(),
            parse_enum<Action>(j.at("action"), action_from_string, "action"),
            j.at("ok").get<bool>(), j.at("detail").get<std::string>()};
}

}  // namespace iohealth
