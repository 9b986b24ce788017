// iohealthctl: inspect and control iohealthd over D-Bus (org.iohealth.IoHealth1).
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "ctl/verbs.h"
#include "iohealth/version.h"

using namespace iohealth::ctl;

int main(int argc, char** argv) {
    CLI::App app{"iohealthctl: inspect and control iohealthd (storage I/O health and fencing)"};
    app.set_version_flag("--version", iohealth::kVersion);
    app.require_subcommand(1);
    app.fallthrough();  // global options after the verb too: `iohealthctl status --json`
    Options opt;
    app.add_flag("--json", opt.json, "print JSON (monitor: one JSON object per line)");
    app.add_option("--bus-address", opt.bus_address,
                   "talk to iohealthd on this bus instead of the system bus");
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
            sub->add_option("MODE", opt.mode, "dry-run, arm, disarm or maintenance")
                ->required()
                ->check(CLI::IsMember({"dry-run", "arm", "disarm", "maintenance"}));
            sub->add_option("--for", opt.length,
                            "maintenance length, e.g. 30m (default: the daemon's, 1h)");
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

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);  // prints help, the version or the usage error
        return rc == 0 ? kExitOk : kExitUsage;
    }
    if (!chosen) return kExitUsage;
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
