// iohealth-sidebyside: the same fault scenarios for CloudStack's heartbeat fence (the peer
// model, tests/sidebyside/peer_model.h) and for iohealthd, in one table.
//
//   iohealth-sidebyside run [--scale 0.4] [--only NAME]... [--out results.jsonl]
//       host tier: faultfs + loop device, the real iohealthd and the peer on real storage;
//       appends one JSON line per scenario to --out, prints the report (markdown).
//   iohealth-sidebyside chained [--scale 0.4] [--only NAME]... [--out results.jsonl]
//       chained tier: the agent's loop writes through the real drop-in onto an ext4 pool on
//       faultfs and calls -c into the real iohealthd (armed, test sysrq file, mock logind);
//       appends one JSON line per scenario to --out, prints the chained table (markdown).
//   iohealth-sidebyside table FILE...
//       the report from JSON lines (result.h), e.g. the host tier's plus the VM tier's; a
//       line without "peer" gets the peer model's decision in virtual time.
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>

#include "harness/faultfs_fixture.h"
#include "sidebyside/chained.h"
#include "sidebyside/host_tier.h"

namespace {

using namespace iohealth::sidebyside;

std::string machine_text() {
    utsname u{};
    ::uname(&u);
    std::string cpu;
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    return fmt::format("{} (Linux {}, {} CPUs, {})", u.nodename, u.release,
                       ::sysconf(_SC_NPROCESSORS_ONLN), cpu.empty() ? "unknown CPU" : cpu);
}

std::string now_text() {
    const std::time_t t = std::time(nullptr);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
    return buf;
}

int print_report(std::vector<ScenarioResult> results, const std::string& command,
                 const std::vector<double>& scales) {
    bool ok = true;
    for (auto& r : results) {
        complete_peer(r);
        ok = ok && acceptance(r) == "ok";
    }
    std::cout << fmt::format("Generated {} on {} by `{}`.\n\n", now_text(), machine_text(),
                             command);
    for (double s : scales) std::cout << fmt::format("Scale {:g}: {}.\n", s, timings_text(s));
    std::cout << "\n" << render_table(results);
    std::cout << fmt::format("\nAcceptance: {}\n", ok ? "every scenario ok" : "FAILED");
    return ok ? 0 : 1;
}

int run_chained(double scale, const std::vector<std::string>& only, const std::string& out,
                const std::string& iohealthd, const std::string& command) {
    if (auto why = chained_unavailable_reason()) {
        std::cerr << "iohealth-sidebyside chained: SKIPPED: " << *why << "\n";
        return 77;
    }
    std::ofstream jsonl(out, std::ios::app);
    if (!jsonl) throw std::runtime_error("Failed to open '" + out + "'");
    std::vector<ChainedResult> results;
    bool ok = true;
    for (const auto& s : chained_scenarios(scale)) {
        if (!only.empty() && std::find(only.begin(), only.end(), s.name) == only.end()) continue;
        results.push_back(run_chained_scenario(
            s, {scale, iohealthd, IOHEALTH_SOURCE_DIR "/contrib/cloudstack"}, std::cerr));
        jsonl << to_json(results.back()).dump() << "\n" << std::flush;
        ok = ok && acceptance(results.back()) == "ok";
    }
    std::cout << fmt::format("Generated {} on {} by `{}`.\n\n", now_text(), machine_text(),
                             command);
    std::cout << fmt::format("Scale {:g}: {}.\n\n", scale, timings_text(scale));
    std::cout << render_chained_table(results);
    std::cout << fmt::format("\nAcceptance: {}\n", ok ? "every scenario ok" : "FAILED");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"CloudStack's heartbeat fence (peer model) and iohealthd on the same faults"};
    app.require_subcommand(1);
    double scale = 0.4;
    std::vector<std::string> only;
    std::string out = "side-by-side.jsonl";
    std::string iohealthd = IOHEALTHD;
    auto* run = app.add_subcommand("run", "host tier: faultfs, the real iohealthd, the peer");
    run->add_option("--scale", scale, "every timing of both sides times this (default 0.4)")
        ->check(CLI::Range(0.05, 1.0));
    run->add_option("--only", only, "run only these scenarios");
    run->add_option("--out", out, "append the results here as JSON lines");
    run->add_option("--iohealthd", iohealthd, "the iohealthd binary");
    auto* chained = app.add_subcommand(
        "chained", "chained tier: the agent's -c through the real drop-in into iohealthd");
    chained->add_option("--scale", scale, "every timing of both sides times this (default 0.4)")
        ->check(CLI::Range(0.05, 1.0));
    chained->add_option("--only", only, "run only these scenarios");
    chained->add_option("--out", out, "append the results here as JSON lines");
    chained->add_option("--iohealthd", iohealthd, "the iohealthd binary");
    std::vector<std::string> files;
    auto* table = app.add_subcommand("table", "the report from JSON-lines result files");
    table->add_option("FILE", files, "result files (result.h)")->required();
    CLI11_PARSE(app, argc, argv);

    std::string command = "iohealth-sidebyside";
    for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];

    try {
        if (*table) {
            std::vector<ScenarioResult> results;
            std::vector<double> scales;
            for (const auto& f : files) {
                std::ifstream in(f);
                if (!in) throw std::runtime_error("Failed to read '" + f + "'");
                int n = 0;
                for (std::string line; std::getline(in, line);) {
                    ++n;
                    if (line.empty()) continue;
                    try {
                        results.push_back(result_from_json(nlohmann::json::parse(line)));
                    } catch (const std::exception& e) {
                        throw std::runtime_error(fmt::format("{}:{}: {}", f, n, e.what()));
                    }
                    if (std::find(scales.begin(), scales.end(), results.back().scale) ==
                        scales.end())
                        scales.push_back(results.back().scale);
                }
            }
            return print_report(std::move(results), command, scales);
        }
        if (*chained) return run_chained(scale, only, out, iohealthd, command);
        if (auto why = iohealth::testing::FaultFsFixture::unavailable_reason()) {
            std::cerr << "iohealth-sidebyside run: " << *why << "\n";
            return 77;
        }
        std::ofstream jsonl(out, std::ios::app);
        if (!jsonl) throw std::runtime_error("Failed to open '" + out + "'");
        std::vector<ScenarioResult> results;
        for (const auto& s : host_scenarios(scale)) {
            if (!only.empty() && std::find(only.begin(), only.end(), s.name) == only.end())
                continue;
            results.push_back(run_host_scenario(s, {scale, iohealthd}, std::cerr));
            jsonl << to_json(results.back()).dump() << "\n" << std::flush;
        }
        return print_report(std::move(results), command, {scale});
    } catch (const std::exception& e) {
        std::cerr << "iohealth-sidebyside: " << e.what() << "\n";
        return 2;
    }
}
