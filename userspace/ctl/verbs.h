#pragma once
// iohealthctl's verbs: one table (name, arguments, help, handler) that main() turns into the
// command line and its help, as systemd's *ctl tools do (src/shared/verbs.h). Each handler
// makes its bus call(s), prints text or --json, and returns an exit code (client.h).
#include <array>
#include <string>
#include <string_view>

#include "ctl/client.h"

namespace iohealth::ctl {

struct Options {
    bool json = false;
    std::string bus_address;
    std::string path;             // show, explain, histogram
    std::string action;           // fence, test-action
    std::string mode;             // mode: dry-run | arm | disarm | maintenance
    std::string reason;           // mode, fence
    std::string length;           // mode maintenance --for
    std::string timeout = "90s";  // fence: how long to wait for the outcome
    bool no_wait = false;         // fence
};

// What a verb takes, beyond the global --json and --bus-address.
enum VerbArgs : unsigned {
    kNoArgs = 0,
    kPathArg = 1u << 0,    // PATH (positional)
    kActionArg = 1u << 1,  // ACTION (positional)
    kModeArg = 1u << 2,    // MODE (positional) [--for DURATION]
    kReasonOpt = 1u << 3,  // --reason TEXT (optional)
    kReasonReq = 1u << 4,  // --reason TEXT (required)
    kWaitOpts = 1u << 5,   // --timeout DURATION, --no-wait
};

struct Verb {
    std::string_view name;
    unsigned args;
    std::string_view help;
    int (*run)(Client& client, const Options& options);
};

int verb_status(Client& client, const Options& options);
int verb_list(Client& client, const Options& options);
int verb_show(Client& client, const Options& options);
int verb_explain(Client& client, const Options& options);
int verb_histogram(Client& client, const Options& options);
int verb_monitor(Client& client, const Options& options);
int verb_mode(Client& client, const Options& options);
int verb_fence(Client& client, const Options& options);
int verb_test_action(Client& client, const Options& options);
int verb_reload(Client& client, const Options& options);

inline constexpr std::array kVerbs{
    Verb{"status", kNoArgs, "The daemon's mode and every path's verdict and evidence", verb_status},
    Verb{"list", kNoArgs, "The monitored paths: name, kind, verdict, bus object", verb_list},
    Verb{"show", kPathArg, "Every property of one path", verb_show},
    Verb{"explain", kPathArg, "Why a path has its verdict: the numbers behind it", verb_explain},
    Verb{"histogram", kPathArg, "A path's completion latency over the evidence window, as bars",
         verb_histogram},
    Verb{"monitor", kNoArgs, "Print verdict changes and escalation events live, until Ctrl-C",
         verb_monitor},
    Verb{"mode", kModeArg | kReasonOpt,
         "Set the fence mode: dry-run, armed, disarmed, or maintenance [--for 30m] (root or admin "
         "group)",
         verb_mode},
    Verb{"fence", kActionArg | kReasonReq | kWaitOpts,
         "Run a fence action now, as the mode allows, and wait for its outcome (root or admin "
         "group)",
         verb_fence},
    Verb{"test-action", kActionArg,
         "What an action would do now, run as a dry run (root or admin group)", verb_test_action},
    Verb{"reload", kNoArgs,
         "Re-read the configuration; refused with the error if invalid (root or admin group)",
         verb_reload},
};

}  // namespace iohealth::ctl
