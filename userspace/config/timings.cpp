#include "config/timings.h"

namespace iohealth {

// With the default T = 10 s these are exactly the values written in core/policy.h, so a
// policy built in a unit test and one loaded from an empty config agree.
Timings derive_timings(Duration io_timeout, Duration tick) {
    const Duration t = io_timeout;
    Timings out;
    out.io_timeout = t;
    out.tick = tick;
    // Five heartbeats per T: a probe that hangs is noticed within T/5 of the hang starting,
    // and a healthy cadence stays well under stall_after (T/2), so it never looks like a stall.
    out.probe_interval = t / 5;
    // A p99 of T/50 (200 ms at T = 10 s) is far above a healthy disk's latency yet far below
    // a fault: the CONTENDED signal, never a fence reason (oVirt only logs read delay > 5 s).
    out.slow_io = t / 50;
    // The window latency and errors are judged over: long enough to smooth one odd tick,
    // short enough that the verdict follows the storage within seconds. (No-progress waits
    // are judged against the classifier's adaptive stall threshold, at least warn_after.)
    out.stall_after = t / 2;
    // "Fence imminent" at 2T leaves T/2 before dead_after for the operator to see it coming
    // (watchdog-mux warns at 50 s of 60 s; SBD at about 3/5 of its timeout).
    out.warn_after = 2 * t;
    // DEAD after 5T/2 = 25 s: inside DESIGN.md's <= 30 s target for block/DRBD paths with one
    // tick of slack. sanlock needs 8T because a failed renewal is its only witness; here DEAD
    // also needs the kernel's no-completion evidence, and any completion vetoes it.
    out.dead_after = 5 * t / 2;
    // A graceful reboot gets 4T (40 s, sanlock's kill_grace) before the hard reboot: systemd's
    // own JobTimeoutSec=30min is far too long when a dead NFS mount blocks unmounting.
    out.graceful_deadline = 4 * t;
    // Leaving RECOVERING needs T/2 of steady progress, as long as it took to call a stall, so
    // one burst of completions after a hang does not clear the verdict (multipath's delayed
    // reinstate).
    out.recover_after = t / 2;
    // One I/O timeout between ladder steps: a restarted agent gets T to show it helped.
    out.step_hold = t;
    // The same action on the same path at most every 30T (5 min), like SBD's servant restart
    // dampening and Pacemaker's failure-timeout: a flapping path must not restart the agent
    // in a loop.
    out.repeat_interval = 30 * t;
    // A custom fence command gets 3T: longer than one I/O timeout (it may touch the storage
    // itself) and shorter than the graceful deadline.
    out.custom_timeout = 3 * t;
    return out;
}

}  // namespace iohealth
