#pragma once
// The start-up check of a DRBD path: DRBD's own timeouts against the path's dead_after.
// When DRBD ends a wait later than iohealth declares the path DEAD, iohealth fences before
// DRBD gives up; the operator should know, and align them (ko-count x timeout below
// dead_after, on-no-quorum io-error, a fence-peer handler faster than dead_after).
#include <string>
#include <vector>

#include "core/policy.h"
#include "sources/drbd/drbd_show.h"

namespace iohealth {

// One warning per mismatch, each naming the path, the resource, the DRBD option and both
// durations; empty when DRBD gives up first.
std::vector<std::string> drbd_startup_warnings(const PathConfig& path,
                                               const DrbdResourceConfig& config);

}  // namespace iohealth
