#pragma once
// Child processes without a shell: posix_spawn of an absolute path, stdin from /dev/null, own
// process group (a timeout kills the whole group), default signal mask and dispositions (the
// daemon blocks signals for its signalfd; children must not inherit that).
#include <sys/types.h>

#include <stop_token>
#include <string>
#include <vector>

#include "core/time.h"

namespace iohealth {

// Starts argv; stdout and stderr go to `output_fd`, or to /dev/null when it is -1. Returns the
// pid; throws std::system_error("Failed to run '<argv0>': <reason>") when it cannot start.
pid_t spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                    int output_fd);

struct ProcessOutcome {
    enum class End { kExited, kSignaled, kTimedOut, kCancelled };
    End end = End::kExited;
    int status = 0;      // exit status (kExited) or signal number (kSignaled)
    std::string output;  // the last `keep_output` bytes the child wrote to stdout/stderr
};

// Enough of a chatty child for an error message, bounded for the journal.
inline constexpr std::size_t kProcessOutputTail = 512;

// Runs argv to completion, or until `timeout` / a stop request, after which its process group
// is killed (SIGKILL) and reaped. Throws std::system_error when it cannot start.
ProcessOutcome run_process(const std::vector<std::string>& argv,
                           const std::vector<std::string>& extra_env, Duration timeout,
                           std::stop_token stop, std::size_t keep_output = kProcessOutputTail);

}  // namespace iohealth
