#include "daemon/explain.h"

#include <time.h>

#include "record/json.h"

namespace iohealth {
namespace {
using nlohmann::json;

std::int64_t clock_usec(clockid_t id) {
    timespec ts{};
    ::clock_gettime(id, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

json usec_or_null(const std::optional<Duration>& d) {
    return d ? json(d->count()) : json(nullptr);
}

}  // namespace

std::uint64_t realtime_usec(TimePoint monotonic) {
    const std::int64_t t =
        clock_usec(CLOCK_REALTIME) + (to_usec(monotonic) - clock_usec(CLOCK_MONOTONIC));
    return t > 0 ? std::uint64_t(t) : 0;
}

json explain_json(const PathSnapshot& s, bool privileged) {
    const Assessment& a = s.assessment;
    const auto in = [&](const std::optional<TimePoint>& t) {
        return t ? std::optional<Duration>(*t - s.taken_at) : std::nullopt;
    };
    json slots = json::array();
    for (auto n : s.window_latency.slots()) slots.push_back(n);
    json vms = json::array();
    for (const auto& vm : s.status.vms) vms.push_back({{"name", vm.name}, {"state", vm.state}});
    json config = to_json(s.config);
    if (const auto& argv = s.config.policy.custom_command; !privileged && argv.size() > 1) {
        config["custom_command"] = json::array({argv.front()});
        config["custom_command_hidden_arguments"] = argv.size() - 1;
    }
    return {
        {"path", s.status.name},
        {"kind", s.status.kind},
        {"target", s.status.target},
        {"device", s.device.empty() ? json(nullptr) : json(s.device)},
        {"verdict", s.status.verdict},
        {"reason", a.reason},
        {"vms", vms},
        {"verdict_for_usec", (a.at - a.since).count()},
        {"assessment",
         {{"completed", a.completed},
          {"errors", a.errors},
          {"p50_usec", a.p50.count()},
          {"p99_usec", a.p99.count()},
          {"max_latency_usec", a.max_latency.count()},
          {"in_flight", a.in_flight},
          {"kernel_stall_usec", a.kernel_stall.count()},
          {"heartbeat_stall_usec", a.heartbeat_stall.count()},
          {"heartbeat_gap_usec", a.heartbeat_gap.count()},
          {"explained_wait_usec", a.explained_wait.count()},
          {"stall_threshold_usec", a.stall_threshold.count()},
          {"kernel_witness", a.kernel_witness},
          {"heartbeat_witness", a.heartbeat_witness},
          {"proof_of_life", a.proof_of_life},
          {"resync_advancing", a.resync_advancing},
          {"dead_in_usec", usec_or_null(in(a.dead_at))},
          {"stuck_request",
           a.stuck_request ? json{{"age_usec", a.stuck_request->age.count()},
                                  {"direction", a.stuck_request->direction
                                                    ? json(to_string(*a.stuck_request->direction))
                                                    : json(nullptr)},
                                  {"in_flight", a.stuck_request->in_flight},
                                  {"threshold_usec", a.stuck_request->threshold.count()}}
                           : json(nullptr)}}},
        {"window",
         {{"ticks", s.window_ticks},
          {"completed", s.window_completed},
          {"errors", s.window_errors},
          {"p50_usec", s.window_latency.percentile(0.5).count()},
          {"p99_usec", s.window_latency.percentile(0.99).count()},
          {"latency_slots", slots},
          {"latest", to_json(s.latest)}}},
        {"escalation",
         {{"active", s.escalating},
          {"step", s.escalation_step},
          {"next_step_in_usec", usec_or_null(in(s.next_step_at))},
          {"fence_by_usec", s.status.fence_by_usec}}},
        {"config", config},
    };
}

}  // namespace iohealth
