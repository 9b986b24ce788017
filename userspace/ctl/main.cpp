// iohealthctl: inspect and control iohealthd over D-Bus (org.iohealth.IoHealth1).
#include <cstdio>
#include <string_view>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "ctl/verbs.h"
#include "iohealth/version.h"

using namespace iohealth::ctl;

namespace {

// Refuses an empty value: "" is a typo or an unset shell variable, never a choice.
CLI::Validator non_empty(const std::string& hint) {
    return CLI::Validator(
        [hint](std::string& value) { return value.empty() ? "must not be empty: " + hint : ""; },
        "");
}

std::string verb_names() {
    std::string names;
    for (const Verb& verb : kVerbs) names += (names.empty() ? "" : ", ") + std::string(verb.name);
    return names;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"iohealthctl: inspect and control iohealthd (storage I/O health and fencing)"};
    app.set_version_flag("--version", iohealth::kVersion);
    app.require_subcommand(0, 1);
    app.fallthrough();  // global options after the verb too: `iohealthctl status --json`
    Options opt;
    app.add_flag("--json", opt.json, "print JSON (monitor: one JSON object per line)");
    app.add_option("--bus-address", opt.bus_address,
                   "talk to iohealthd on this bus instead of the system bus")
        ->check(non_empty("omit --bus-address for the system bus"));
    app.footer(
        "Exit status: 0 ok, 1 the daemon refused or the action failed, 2 usage, 3 iohealthd "
        "not running, 4 permission denied. See iohealthctl(1).");

    const Verb* chosen = nullptr;
    for (const Verb& verb : kVerbs) {
        CLI::App* sub = app.add_subcommand(std::string(verb.name), std::string(verb.help));
        if (verb.args & kPathArg) sub->add_option("PATH", opt.path, "path name")->required();
        if (verb.args & kActionArg)
            sub->add_option("ACTION", opt.action,
                            "log-only, restart-agent, graceful-reboot, reboot or custom")
                ->required()
                ->check(CLI::IsMember(
                    {"log-only", "restart-agent", "graceful-reboot", "reboot", "custom"}));
        if (verb.args & kModeArg) {
            sub->add_option("MODE", opt.mode,
                            "dry-run, armed, disarmed or maintenance (arm and disarm also work)")
                ->required()
                ->check(CLI::IsMember(
                    {"dry-run", "armed", "disarmed", "maintenance", "arm", "disarm"}));
            sub->add_option("--for", opt.length,
                            "maintenance length, e.g. 30m (default: the daemon's, 1h)")
                ->check(non_empty("a length such as 30m, or omit --for for the daemon's default"));
        }
        if (verb.args & (kReasonOpt | kReasonReq)) {
            auto* reason = sub->add_option("--reason", opt.reason, "why (kept in the journal)");
            if (verb.args & kReasonReq) reason->required();
        }
        if (verb.args & kWaitOpts) {
            sub->add_option("--timeout", opt.timeout, "how long to wait for the outcome")
                ->capture_default_str();
            sub->add_flag("--no-wait", opt.no_wait, "print the request id and return");
        }
        sub->callback([&chosen, &verb] { chosen = &verb; });
    }
    // A word that is no verb lands here, so the message can name it.
    std::vector<std::string> stray;
    app.add_option("VERB", stray)->group("");

    for (int i = 1; i < argc; ++i)
        // CLI11 would take the next word as the address.
        if (std::string_view(argv[i]) == "--bus-address=") {
            fmt::print(stderr,
                       "--bus-address: must not be empty: omit --bus-address for the system "
                       "bus\nRun with --help for more information.\n");
            return kExitUsage;
        }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);  // prints help, the version or the usage error
        return rc == 0 ? kExitOk : kExitUsage;
    }
    if (chosen && !stray.empty()) {
        fmt::print(stderr, "iohealthctl: unexpected argument '{}' after '{}'\n", stray.front(),
                   chosen->name);
        fmt::print(stderr, "Run with --help for more information.\n");
        return kExitUsage;
    }
    if (!chosen) {
        if (stray.empty())
            fmt::print(stderr, "iohealthctl: a verb is required ({})\n", verb_names());
        else
            fmt::print(stderr, "iohealthctl: unknown verb '{}' (verbs: {})\n", stray.front(),
                       verb_names());
        fmt::print(stderr, "Run with --help for more information.\n");
        return kExitUsage;
    }
    try {
        Client client(opt.bus_address);
        return chosen->run(client, opt);
    } catch (const Failure& f) {
        fmt::print(stderr, "iohealthctl: {}\n", f.what());
        return f.code();
    } catch (const std::exception& e) {
        fmt::print(stderr, "iohealthctl: {}\n", e.what());
        return kExitFailed;
    }
}
