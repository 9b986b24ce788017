#include "ctl/verbs.h"

#include <signal.h>
#include <time.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "config/duration.h"
#include "ctl/render.h"
#include "dbus/errors.h"

namespace iohealth::ctl {
namespace {
using nlohmann::json;

std::uint64_t now_usec() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000 + std::uint64_t(ts.tv_nsec) / 1000;
}

void print_json(const json& j) {
    fmt::print("{}\n", j.dump(2));
}

// Runs one bus call; a bus error becomes the Failure for "Could not <what>".
template <typename F>
auto call(Client& client, const std::string& what, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const sdbus::Error& e) {
        throw bus_failure(what, e, client.bus());
    }
}

std::string step_text(std::int64_t step) {
    return step == 0 ? "-" : std::to_string(step);
}

// "step 2 restart-agent" in a ladder; "requested log-only" for a RequestFence (step 0).
std::string step_name(std::int32_t step, const std::string& action) {
    return step == 0 ? "requested " + action : fmt::format("step {} {}", step, action);
}

// Fixed-width columns: each column as wide as its widest cell.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i)
            line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], width[i]);
        fmt::print("{}\n", line);
    }
}

// "armed (runtime change)", "dry-run (configuration)", "maintenance until ...".
std::string mode_line(const json& m) {
    const std::string mode = m.value("mode", "unknown");
    if (mode == "maintenance")
        return fmt::format("maintenance until {}",
                           when(m.value("maintenance_until_usec", 0ull), now_usec()));
    const std::string source = m.value("mode_source", "");
    if (source == "runtime") return mode + " (runtime change)";
    if (source == "config") return mode + " (configuration)";
    return mode;
}

// A signal as one line of text for `monitor` and `fence`.
std::string signal_text(const Signal& signal) {
    const auto where = [](const std::string& path) { return path.empty() ? "host" : path; };
    struct Visit {
        decltype(where) at;
        std::string operator()(const VerdictChangedSignal& s) const {
            return fmt::format("{}: {} -> {}: {}", at(s.path), s.old_verdict, s.verdict, s.reason);
        }
        std::string operator()(const EscalationStartedSignal& s) const {
            return fmt::format("{}: escalation started: {}", at(s.path), s.reason);
        }
        std::string operator()(const StepStartedSignal& s) const {
            return fmt::format("{}: {}{} started (request {})", at(s.path),
                               s.dry_run ? "dry-run: " : "", step_name(s.step, s.action), s.id);
        }
        std::string operator()(const StepFinishedSignal& s) const {
            return fmt::format("{}: {} {} (request {}): {}", at(s.path),
                               step_name(s.step, s.action), s.success ? "succeeded" : "FAILED",
                               s.id, s.detail);
        }
        std::string operator()(const EscalationAvertedSignal& s) const {
            return fmt::format("{}: escalation averted: {}", at(s.path), s.reason);
        }
        std::string operator()(const ManagerChangedSignal& s) const {
            if (s.properties.contains("mode"))
                return fmt::format("mode: {}", mode_line(s.properties));
            return fmt::format("manager: {}", s.properties.dump());
        }
        std::string operator()(const PathAddedSignal& s) const {
            return fmt::format("{}: now monitored", at(s.path));
        }
        std::string operator()(const PathRemovedSignal& s) const {
            return fmt::format("{}: no longer monitored", at(s.path));
        }
    };
    return std::visit(Visit{where}, signal);
}

// "i-2-87-VM (running), r-78-VM (paused (I/O error))", or "none".
std::string vm_list(const json& vms) {
    std::string out;
    for (const auto& vm : vms)
        out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", vm.value("name", ""),
                           vm.value("state", ""));
    return out.empty() ? "none" : out;
}

// Where the VM lists come from and how current they are: "libvirt connected, VM lists as of
// 2026-12-07 15:06:36 (3s ago)"; a list shown while libvirt is unreachable is the last known.
std::string vm_lists_state(const json& manager) {
    const std::string state = manager.value("libvirt_state", "off");
    if (state == "off") return "no VM tracking ([libvirt] uri is empty)";
    const auto as_of = manager.value("vms_updated_usec", 0ull);
    return fmt::format("libvirt {}, VM lists {}", state,
                       as_of ? "as of " + when(as_of, now_usec()) : std::string("never listed"));
}

// The manager's libvirt properties into a path's document (show, explain --json).
void add_vm_lists_state(json& doc, const json& manager) {
    doc["libvirt_state"] = manager.value("libvirt_state", "off");
    doc["vms_updated_usec"] = manager.value("vms_updated_usec", 0ull);
}

Duration parse_or_usage(const std::string& text, const char* option) {
    const auto parsed = parse_duration(text);
    if (!parsed.value) throw Failure(kExitUsage, fmt::format("{}: {}", option, parsed.error));
    return *parsed.value;
}

}  // namespace

int verb_status(Client& client, const Options& o) {
    json manager = client.manager_properties();
    json paths = client.paths();
    if (o.json) {
        manager["paths"] = paths;
        print_json(manager);
        return kExitOk;
    }
    fmt::print("iohealthd {}: mode {}\n", manager.value("version", "?"), mode_line(manager));
    if (paths.empty()) {
        fmt::print("No paths are monitored.\n");
        return kExitOk;
    }
    const auto now = now_usec();
    std::vector<std::vector<std::string>> rows{{"PATH", "KIND", "VERDICT", "P50", "P99",
                                                "IN-FLIGHT", "OLDEST", "HEARTBEAT", "ERRORS",
                                                "STEP", "FENCE-BY", "REASON"}};
    for (const auto& p : paths) {
        const auto fence_by = p.value("fence_by_usec", 0ull);
        rows.push_back(
            {p.value("name", ""), p.value("kind", ""), p.value("verdict", ""),
             human_usec(p.value("latency_p50_usec", 0ull)),
             human_usec(p.value("latency_p99_usec", 0ull)),
             std::to_string(p.value("in_flight", 0u)), human_usec(p.value("oldest_age_usec", 0ull)),
             human_usec(p.value("heartbeat_age_usec", 0ull)),
             std::to_string(p.value("errors", 0ull)), step_text(p.value("escalation_step", 0)),
             fence_by ? "in " + human_usec(fence_by > now ? fence_by - now : 0) : "-",
             p.value("reason", "")});
    }
    print_table(rows);
    return kExitOk;
}

int verb_list(Client& client, const Options& o) {
    json out = json::array();
    for (const auto& p : client.paths())
        out.push_back({{"name", p.value("name", "")},
                       {"kind", p.value("kind", "")},
                       {"verdict", p.value("verdict", "")},
                       {"object", p.value("object", "")}});
    if (o.json) {
        print_json(out);
        return kExitOk;
    }
    std::vector<std::vector<std::string>> rows{{"PATH", "KIND", "VERDICT", "OBJECT"}};
    for (const auto& p : out) rows.push_back({p["name"], p["kind"], p["verdict"], p["object"]});
    print_table(rows);
    return kExitOk;
}

int verb_show(Client& client, const Options& o) {
    json p = client.path(o.path);
    add_vm_lists_state(p, client.manager_properties());
    if (o.json) {
        print_json(p);
        return kExitOk;
    }
    const auto now = now_usec();
    for (const auto& [key, value] : p.items()) {
        std::string text;
        if (key == "fence_by_usec" || key == "vms_updated_usec")
            text = when(value.get<std::uint64_t>(), now);
        else if (key.ends_with("_usec"))
            text = human_usec(value.get<std::uint64_t>());
        else if (value.is_string())
            text = value.get<std::string>();
        else if (key == "vms")
            text = vm_list(value);
        else
            text = value.dump();
        fmt::print("{}: {}\n", key, text);
    }
    return kExitOk;
}

int verb_explain(Client& client, const Options& o) {
    const std::string text = call(client, fmt::format("explain '{}'", o.path),
                                  [&] { return client.manager().Explain(o.path); });
    json e = json::parse(text);
    const json manager = client.manager_properties();
    add_vm_lists_state(e, manager);
    if (o.json) {
        print_json(e);
        return kExitOk;
    }
    const auto& a = e.at("assessment");
    const auto& w = e.at("window");
    const auto& x = e.at("escalation");
    const auto& t = e.at("config").at("timings");  // microseconds
    const auto us = [](const json& j, const char* key) { return human_usec(j.value(key, 0ull)); };
    const std::string device = e.at("device").is_null() ? "unresolved" : e.value("device", "");
    fmt::print("{} ({} {}, device {}): {} for {}\n", e.value("path", ""), e.value("kind", ""),
               e.value("target", ""), device, e.value("verdict", ""), us(e, "verdict_for_usec"));
    fmt::print("  reason:      {}\n", e.value("reason", ""));
    if (e.contains("vms"))
        fmt::print("  vms:         {} ({})\n", vm_list(e.at("vms")), vm_lists_state(manager));
    fmt::print(
        "  latency:     p50 {}, p99 {}, max {} over {} completions; {} errors; {} in flight\n",
        us(a, "p50_usec"), us(a, "p99_usec"), us(a, "max_latency_usec"), a.value("completed", 0ull),
        a.value("errors", 0ull), a.value("in_flight", 0u));
    fmt::print(
        "  no progress: kernel {}, heartbeat {} (gap since its last success {}); "
        "threshold {}\n",
        us(a, "kernel_stall_usec"), us(a, "heartbeat_stall_usec"), us(a, "heartbeat_gap_usec"),
        us(a, "stall_threshold_usec"));
    fmt::print("  witnesses:   kernel {}, heartbeat {}; proof of life this tick: {}\n",
               a.value("kernel_witness", false) ? "yes" : "no",
               a.value("heartbeat_witness", false) ? "yes" : "no",
               a.value("proof_of_life", false) ? "yes" : "no");
    if (!a.at("dead_in_usec").is_null())
        fmt::print("  DEAD in:     {} if nothing completes\n", us(a, "dead_in_usec"));
    if (const auto& r = a.value("stuck_request", json()); r.is_object())
        fmt::print(
            "  stuck:       a {} request outstanding {} while the others complete "
            "(threshold {})\n",
            r.at("direction").is_null() ? "" : r.value("direction", ""), us(r, "age_usec"),
            us(r, "threshold_usec"));
    if (x.value("active", false))
        fmt::print("  escalation:  step {}{}\n", x.value("step", 0),
                   x.at("next_step_in_usec").is_null()
                       ? ", last step"
                       : ", next step in " + us(x, "next_step_in_usec"));
    else
        fmt::print("  escalation:  idle\n");
    fmt::print("  window:      {} ticks, {} completions, {} errors, p50 {}, p99 {}\n",
               w.value("ticks", 0), w.value("completed", 0ull), w.value("errors", 0ull),
               us(w, "p50_usec"), us(w, "p99_usec"));
    fmt::print(
        "  timings:     tick {}, io_timeout {}, slow_io {}, stall_after {}, warn_after {}, "
        "dead_after {}, step_hold {}, graceful_deadline {}\n",
        us(t, "tick"), us(t, "io_timeout"), us(t, "slow_io"), us(t, "stall_after"),
        us(t, "warn_after"), us(t, "dead_after"), us(t, "step_hold"), us(t, "graceful_deadline"));
    std::string ladder;
    for (const auto& step : e.at("config").value("ladder", json::array()))
        ladder += fmt::format("{}{} (hold {})", ladder.empty() ? "" : ", ",
                              step.value("action", ""), human_usec(step.value("hold", 0ull)));
    fmt::print("  ladder:      {}\n", ladder.empty() ? "(none)" : ladder);
    return kExitOk;
}

int verb_histogram(Client& client, const Options& o) {
    const auto slots = call(client, fmt::format("read the histogram of '{}'", o.path),
                            [&] { return client.manager().GetHistogram(o.path); });
    std::uint64_t total = 0;
    for (auto n : slots) total += n;
    if (o.json) {
        json out = {{"path", o.path}, {"total", total}, {"slots", json::array()}};
        const int n = static_cast<int>(slots.size());
        for (int i = 0; i < n; ++i)
            out["slots"].push_back(
                {{"from_usec", i == 0 ? 0 : std::uint64_t{1} << i},
                 {"to_usec", i == n - 1 ? json(nullptr) : json(std::uint64_t{2} << i)},
                 {"count", slots[std::size_t(i)]}});
        print_json(out);
        return kExitOk;
    }
    fmt::print("{}: {} completions over the evidence window (log2 latency slots)\n", o.path, total);
    for (const auto& line : histogram_bars(slots)) fmt::print("  {}\n", line);
    return kExitOk;
}

int verb_monitor(Client& client, const Options& o) {
    // Ctrl-C ends the loop: the signals are taken synchronously by this thread.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    client.manager().listen([json_out = o.json](const Signal& s) {
        if (json_out)
            fmt::print("{}\n", signal_json(s).dump());
        else
            fmt::print("{} {}\n", when(now_usec(), now_usec()).substr(11, 8), signal_text(s));
        std::fflush(stdout);
    });
    client.receive_signals();
    if (!o.json) {
        fmt::print(stderr, "Monitoring iohealthd on {}; Ctrl-C to stop.\n", client.bus());
    }
    int sig = 0;
    sigwait(&stop, &sig);
    client.manager().listen(nullptr);
    return kExitOk;
}

int verb_mode(Client& client, const Options& o) {
    // The names the configuration, --mode, the bus and the docs use, and the older verbs.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kModes{
        {{"dry-run", "dry-run"},
         {"armed", "armed"},
         {"disarmed", "disarmed"},
         {"maintenance", "maintenance"},
         {"arm", "armed"},
         {"disarm", "disarmed"}}};
    std::string mode;
    for (const auto& [verb, name] : kModes)
        if (o.mode == verb) mode = name;
    Duration length{0};
    if (!o.length.empty()) {
        if (mode != "maintenance") throw Failure(kExitUsage, "--for applies to 'maintenance' only");
        length = parse_or_usage(o.length, "--for");
    }
    const std::string reason = o.reason.empty() ? "set with iohealthctl" : o.reason;
    call(client, fmt::format("set the mode to {}", mode),
         [&] { client.manager().SetMode(mode, std::uint64_t(length.count()), reason); });
    // The daemon applies it on its loop at once; wait (briefly) to report the result.
    json m;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    do {
        m = client.manager_properties();
        if (m.value("mode", "") == mode) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    if (o.json) {
        print_json({{"mode", m.value("mode", "")},
                    {"maintenance_until_usec", m.value("maintenance_until_usec", 0ull)}});
    } else {
        fmt::print("Mode: {}\n", mode_line(m));
    }
    return m.value("mode", "") == mode ? kExitOk : kExitFailed;
}

int verb_fence(Client& client, const Options& o) {
    const Duration timeout = parse_or_usage(o.timeout, "--timeout");
    // Listen before asking, so a fast outcome is not missed; match on the id afterwards.
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<Signal> seen;
    if (!o.no_wait) {
        client.manager().listen([&](const Signal& s) {
            // Only the steps of host requests (they carry no path).
            const auto* started = std::get_if<StepStartedSignal>(&s);
            const auto* finished = std::get_if<StepFinishedSignal>(&s);
            if (!(started && started->path.empty()) && !(finished && finished->path.empty()))
                return;
            std::lock_guard lock(mutex);
            seen.push_back(s);
            cv.notify_all();
        });
        client.receive_signals();
    }
    const std::uint64_t id = call(client, fmt::format("request '{}'", o.action), [&] {
        return client.manager().RequestFence(o.action, o.reason);
    });
    json out = {{"id", id}, {"action", o.action}};
    if (o.no_wait) {
        if (o.json)
            print_json(out);
        else
            fmt::print("Fence request {} queued: {}\n", id, o.action);
        return kExitOk;
    }
    std::optional<StepStartedSignal> started;
    std::optional<StepFinishedSignal> finished;
    {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, timeout, [&] {
            for (const auto& s : seen) {
                if (const auto* st = std::get_if<StepStartedSignal>(&s); st && st->id == id)
                    started = *st;
                if (const auto* f = std::get_if<StepFinishedSignal>(&s); f && f->id == id)
                    finished = *f;
            }
            return finished.has_value();
        });
    }
    client.manager().listen(nullptr);
    out["dry_run"] = started ? json(started->dry_run) : json(nullptr);
    out["finished"] = finished.has_value();
    out["success"] = finished ? json(finished->success) : json(nullptr);
    out["detail"] = finished ? json(finished->detail) : json(nullptr);
    const bool ok = finished && finished->success;
    if (o.json) {
        print_json(out);
    } else {
        if (started) fmt::print("{}\n", signal_text(*started));
        if (finished)
            fmt::print("{}\n", signal_text(*finished));
        else
            fmt::print(
                "Fence request {}: no outcome within {} (it keeps running in iohealthd; "
                "see `iohealthctl monitor` or the journal)\n",
                id, human_usec(std::uint64_t(timeout.count())));
    }
    return ok ? kExitOk : kExitFailed;
}

int verb_test_action(Client& client, const Options& o) {
    const std::string detail = call(client, fmt::format("test '{}'", o.action),
                                    [&] { return client.manager().TestAction(o.action); });
    if (o.json)
        print_json({{"action", o.action}, {"detail", detail}});
    else
        fmt::print("{}\n", detail);
    return kExitOk;
}

int verb_reload(Client& client, const Options& o) {
    call(client, "reload the configuration", [&] { client.manager().Reload(); });
    if (o.json)
        print_json({{"reloaded", true}});
    else
        fmt::print("Configuration reloaded.\n");
    return kExitOk;
}

}  // namespace iohealth::ctl
