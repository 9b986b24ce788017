#include "sidebyside/chained_result.h"

#include <fmt/format.h>
#include <algorithm>
#include <regex>

namespace iohealth::sidebyside {
bool is_reboot_rung(const std::string& action) {
    return action == "graceful-reboot" || action == "reboot";
}

std::optional<LadderStep> ChainedResult::first_reboot_rung() const {
    for (const auto& s : steps)
        if (s.at_s >= 0 && is_reboot_rung(s.action)) return s;
    return std::nullopt;
}

nlohmann::json to_json(const ChainedResult& r) {
    using nlohmann::json;
    json timeline = json::array();
    for (const auto& s : r.timeline)
        timeline.push_back(
            {{"at_s", std::chrono::duration<double>(s.at).count()}, {"storage", s.command}});
    json fences = json::array();
    for (const auto& f : r.agent_fences)
        fences.push_back({{"at_s", f.at_s},
                          {"took_s", f.took_s},
                          {"exit", f.exit},
                          {"stdout", f.out},
                          {"reply", f.reply},
                          {"detail", f.detail}});
    json verdicts = json::array();
    for (const auto& v : r.verdicts) verdicts.push_back({{"at_s", v.at_s}, {"verdict", v.verdict}});
    json declined = json::array();
    for (const auto& d : r.declined) declined.push_back({{"at_s", d.at_s}, {"message", d.text}});
    json steps = json::array();
    for (const auto& s : r.steps)
        steps.push_back({{"at_s", s.at_s}, {"ladder", s.ladder}, {"action", s.action}});
    const auto rung = r.first_reboot_rung();
    return {{"scenario", r.scenario},
            {"tier", "chained"},
            {"kind", r.kind},
            {"what", r.what},
            {"scale", r.scale},
            {"warmup_s", r.warmup_s},
            {"ran_s", r.ran_s},
            {"timeline", timeline},
            {"agent",
             {{"write_timeout_s", r.write_timeout_s},
              {"writes", r.agent_writes},
              {"fences", fences},
              {"dropin_sysrq", r.dropin_sysrq},
              {"dropin_crit", r.dropin_crit}}},
            {"iohealth",
             {{"verdicts", verdicts},
              {"fence_declined", declined},
              {"steps", steps},
              {"reboot_rung_at_s", rung ? json(rung->at_s) : json(nullptr)},
              {"logind_calls", r.logind_calls},
              {"sysrq", r.sysrq}}},
            {"stock",
             {{"source", r.stock_source},
              {"fence_at_s", r.stock_fence_at_s ? json(*r.stock_fence_at_s) : json(nullptr)},
              {"fence_delay_s", r.stock_fence_delay_s}}},
            {"check", acceptance(r)}};
}

std::string acceptance(const ChainedResult& r) {
    const auto rung = r.first_reboot_rung();
    if (!r.dropin_crit.empty()) return "FAIL: the drop-in's fallback ran: " + r.dropin_crit.front();
    if (!r.dropin_sysrq.empty()) return "FAIL: the drop-in's stock fence wrote its sysrq trigger";
    if (r.kind == "contention") {
        if (r.agent_fences.empty()) return "FAIL: the agent never called -c";
        for (const auto& f : r.agent_fences)
            if (f.reply != "declined")
                return fmt::format("FAIL: the -c at {:.1f} s was answered {}", f.at_s, f.reply);
        if (r.declined.empty()) return "FAIL: no fence-declined event";
        if (rung) return fmt::format("FAIL: {} ran at {:.1f} s", rung->action, rung->at_s);
        if (!r.logind_calls.empty()) return "FAIL: logind was called";
        if (!r.sysrq.empty()) return "FAIL: iohealthd wrote its sysrq trigger";
        return "ok";
    }
    if (!rung) return "FAIL: no reboot rung ran";
    if (rung->action == "graceful-reboot" && std::find(r.logind_calls.begin(), r.logind_calls.end(),
                                                       "RebootWithFlags") == r.logind_calls.end())
        return "FAIL: graceful-reboot ran but logind was not called";
    if (rung->action == "reboot" && r.sysrq != "b") return "FAIL: the sysrq trigger holds no 'b'";
    if (!r.stock_fence_at_s) return "FAIL: no stock fence time to compare with";
    if (rung->at_s > *r.stock_fence_at_s)
        return fmt::format("FAIL: fenced at {:.1f} s, after the stock -c at {:.1f} s", rung->at_s,
                           *r.stock_fence_at_s);
    for (const auto& f : r.agent_fences)
        if (f.reply != "fencing")
            return fmt::format("FAIL: the -c at {:.1f} s was answered {}", f.at_s, f.reply);
    if (!r.declined.empty()) return "FAIL: a fence was declined on a dead path";
    return "ok";
}

std::string render_chained_table(const std::vector<ChainedResult>& results) {
    std::string out =
        "| scenario | storage (after the fault) | the agent's `-c` (write timeout) | iohealthd's "
        "reply | what ran in iohealthd | reboot rung vs the stock fence | check |\n"
        "|---|---|---|---|---|---|---|\n";
    for (const auto& r : results) {
        std::string storage;
        for (const auto& s : r.timeline)
            storage += fmt::format("{}{} @{:g}s", storage.empty() ? "" : ", ", s.command,
                                   std::chrono::duration<double>(s.at).count());
        std::string calls, replies;
        for (const auto& f : r.agent_fences) {
            calls += fmt::format("{}{:.1f} s", calls.empty() ? "" : ", ", f.at_s);
            replies += fmt::format("{}{}", replies.empty() ? "" : ", ", f.reply);
        }
        if (calls.empty()) calls = fmt::format("not by {:.1f} s", r.ran_s);
        if (replies.empty()) replies = "—";
        if (!r.declined.empty()) {
            static const std::regex kVerdict("is ([A-Z]+): ");
            std::smatch m;
            if (std::regex_search(r.declined.front().text, m, kVerdict))
                replies += fmt::format(" (path {})", m[1].str());
        }
        std::string ran, ladder;
        for (const auto& s : r.steps) {
            if (s.at_s < 0) continue;
            // "heartbeat-declined#3" -> "heartbeat-declined"
            const std::string name = s.ladder.substr(0, s.ladder.find('#'));
            if (name != ladder)
                ran += fmt::format("{}{}: ", ran.empty() ? "" : "; ", name);
            else
                ran += " → ";
            ladder = name;
            ran += fmt::format("{} {:.1f} s", s.action, s.at_s);
        }
        if (!r.logind_calls.empty()) {
            std::string methods;
            for (const auto& c : r.logind_calls) methods += (methods.empty() ? "" : ", ") + c;
            ran += fmt::format(" (logind {})", methods);
        }
        if (r.sysrq == "b") ran += " (sysrq 'b')";
        if (ran.empty()) ran = "nothing";
        const auto rung = r.first_reboot_rung();
        const std::string stock =
            r.stock_fence_at_s
                ? fmt::format("stock -c {} [{}]", time_text(*r.stock_fence_at_s, r.scale),
                              r.stock_source)
                : "stock: no -c";
        const std::string fenced =
            rung ? fmt::format("{} {} vs {}", rung->action, time_text(rung->at_s, r.scale), stock)
                 : fmt::format("no reboot rung (ran {:.1f} s) vs {}", r.ran_s, stock);
        out +=
            fmt::format("| {} ({}) | {} | {} ({:g} s) | {} | {} | {} | {} |\n", r.scenario, r.kind,
                        storage, calls, r.write_timeout_s, replies, ran, fenced, acceptance(r));
    }
    return out;
}

}  // namespace iohealth::sidebyside
