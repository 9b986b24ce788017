#include "sidebyside/result.h"

#include <fmt/format.h>
#include <stdexcept>

namespace iohealth::sidebyside {
namespace {

using nlohmann::json;

Duration seconds(double s) {
    return Duration(static_cast<Duration::rep>(s * 1e6));
}
double seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

json optional_number(const std::optional<double>& v) {
    return v ? json(*v) : json(nullptr);
}
std::optional<double> optional_number(const json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    return j[key].get<double>();
}

template <typename T>
T required(const json& j, const char* key, const char* where) {
    if (!j.contains(key)) throw std::runtime_error(fmt::format("{}: missing \"{}\"", where, key));
    try {
        return j[key].get<T>();
    } catch (const json::exception& e) {
        throw std::runtime_error(fmt::format("{}: \"{}\": {}", where, key, e.what()));
    }
}

std::string timeline_text(const ScenarioResult& r) {
    std::string s;
    for (const auto& step : r.timeline)
        s += fmt::format("{}{} @{:g}s", s.empty() ? "" : ", ", step.command, seconds(step.at));
    return s;
}

// The verdicts entered after the fault, with their times: "STALLED 0.4 s → DEAD 5.4 s".
std::string verdict_path(const ScenarioResult& r) {
    std::string s;
    for (const auto& v : r.iohealth_verdicts)
        if (v.at_s >= 0)
            s += fmt::format("{}{} {:.1f} s", s.empty() ? "" : " → ", v.verdict, v.at_s);
    return s.empty() ? "no change" : s;
}

}  // namespace

std::string time_text(double at_s, double scale) {
    if (scale == 1.0) return fmt::format("{:.1f} s", at_s);
    return fmt::format("{:.1f} s (≙ {:.0f} s)", at_s, at_s / scale);
}

json to_json(const ScenarioResult& r) {
    json timeline = json::array();
    for (const auto& s : r.timeline)
        timeline.push_back({{"at_s", seconds(s.at)}, {"storage", s.command}});
    json verdicts = json::array();
    for (const auto& v : r.iohealth_verdicts)
        verdicts.push_back({{"at_s", v.at_s}, {"verdict", v.verdict}});
    json j = {{"scenario", r.scenario},
              {"tier", r.tier},
              {"kind", r.kind},
              {"scale", r.scale},
              {"length_s", r.length_s},
              {"warmup_s", r.warmup_s},
              {"timeline", timeline},
              {"iohealth",
               {{"fence_at_s", optional_number(r.iohealth_fence_at_s)},
                {"verdicts", verdicts},
                {"note", r.iohealth_note}}}};
    if (!r.peer_source.empty())
        j["peer"] = {{"source", r.peer_source},
                     {"fence_at_s", optional_number(r.peer_fence_at_s)},
                     {"neighbours_dead_at_s", optional_number(r.peer_neighbours_dead_at_s)}};
    return j;
}

ScenarioResult result_from_json(const json& j) {
    ScenarioResult r;
    r.scenario = required<std::string>(j, "scenario", "result");
    const std::string where = "scenario " + r.scenario;
    r.tier = j.value("tier", "host");
    r.kind = required<std::string>(j, "kind", where.c_str());
    if (r.kind != "contention" && r.kind != "dead")
        throw std::runtime_error(
            fmt::format("{}: kind '{}' (expected contention or dead)", where, r.kind));
    r.scale = j.value("scale", 1.0);
    if (!(r.scale > 0)) throw std::runtime_error(where + ": scale must be > 0");
    r.length_s = required<double>(j, "length_s", where.c_str());
    r.warmup_s = j.value("warmup_s", 1.5 * 60 * r.scale);
    for (const auto& s : required<json>(j, "timeline", where.c_str())) {
        peer::FaultStep step{seconds(required<double>(s, "at_s", where.c_str())),
                             required<std::string>(s, "storage", where.c_str())};
        if (!peer::valid_fault_command(step.command))
            throw std::runtime_error(fmt::format(
                "{}: storage '{}' (expected delay MIN_MS [MAX_MS], hang, eio, release or heal)",
                where, step.command));
        r.timeline.push_back(step);
    }
    const json io = required<json>(j, "iohealth", where.c_str());
    r.iohealth_fence_at_s = optional_number(io, "fence_at_s");
    r.iohealth_note = io.value("note", "");
    if (io.contains("verdicts"))
        for (const auto& v : io["verdicts"])
            r.iohealth_verdicts.push_back({required<double>(v, "at_s", where.c_str()),
                                           required<std::string>(v, "verdict", where.c_str())});
    if (j.contains("peer")) {
        const json& p = j["peer"];
        r.peer_source = p.value("source", "external");
        r.peer_fence_at_s = optional_number(p, "fence_at_s");
        r.peer_neighbours_dead_at_s = optional_number(p, "neighbours_dead_at_s");
    }
    return r;
}

peer::PeerTimings peer_timings(const ScenarioResult& r) {
    return peer::PeerTimings{}.scaled(r.scale);
}

void complete_peer(ScenarioResult& r) {
    if (!r.peer_source.empty()) return;
    const auto o =
        peer::simulate_peer(r.timeline, peer_timings(r), seconds(r.warmup_s), seconds(r.length_s));
    r.peer_source = "model, virtual time";
    if (o.fence_at) r.peer_fence_at_s = seconds(*o.fence_at);
    if (o.neighbours_dead) r.peer_neighbours_dead_at_s = seconds(*o.neighbours_dead);
}

std::string acceptance(const ScenarioResult& r) {
    if (r.kind == "contention")
        return r.iohealth_fence_at_s ? "FAIL: iohealth fenced under contention" : "ok";
    if (!r.iohealth_fence_at_s) return "FAIL: iohealth did not fence a dead path";
    if (r.peer_fence_at_s && *r.iohealth_fence_at_s > *r.peer_fence_at_s)
        return "FAIL: iohealth fenced after the peer";
    return "ok";
}

std::string render_table(const std::vector<ScenarioResult>& results) {
    std::string out =
        "| scenario | tier | storage (after the fault) | peer decision | peer: neighbours read "
        "DEAD | iohealth decision | iohealth verdicts | check |\n"
        "|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : results) {
        const std::string peer =
            r.peer_fence_at_s ? "fence at " + time_text(*r.peer_fence_at_s, r.scale) : "no fence";
        const std::string neighbours = r.peer_neighbours_dead_at_s
                                           ? time_text(*r.peer_neighbours_dead_at_s, r.scale)
                                           : "never";
        const std::string io = r.iohealth_fence_at_s
                                   ? "fence at " + time_text(*r.iohealth_fence_at_s, r.scale)
                                   : "no fence";
        out += fmt::format("| {} ({}) | {} | {} | {} [{}] | {} | {} | {} | {} |\n", r.scenario,
                           r.kind, r.tier, timeline_text(r), peer, r.peer_source, neighbours, io,
                           verdict_path(r), acceptance(r));
    }
    return out;
}

}  // namespace iohealth::sidebyside
