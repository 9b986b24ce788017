#pragma once
// A scenario's faults as a timeline of faultfs commands (tests/harness/faultfs.cpp), seconds
// after the fault starts: "delay MIN_MS MAX_MS", "hang", "eio", "release", "heal". The host
// tier replays it on the real harness; the same timeline lets the peer model run in virtual
// time for scenarios measured elsewhere (the VM tier writes the storage behaviour a writer on
// its path sees in these words: an NFS server stopped under a hard mount is "hang").
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/time.h"

namespace iohealth::peer {

struct FaultStep {
    Duration at;          // after the fault starts
    std::string command;  // faultfs ctl vocabulary
    bool operator==(const FaultStep&) const = default;
};

// One write's fate on storage following `steps` (applied at `origin`), as faultfs decides it:
// the mode when the request arrives applies; a held request completes at the next release or
// heal, under the mode then.
class StorageModel {
  public:
    StorageModel(std::vector<FaultStep> steps, TimePoint origin, unsigned seed = 1);
    struct Outcome {
        std::optional<TimePoint> done;  // nullopt: still held at the end of the timeline
        bool ok = true;
    };
    Outcome write(TimePoint issued);
    // Whether a read issued at `t` answers with the file: not while requests hang (the
    // reader's `cat` waits with them) or fail (it reads nothing).
    bool readable(TimePoint t) const;

  private:
    struct Mode {
        enum Kind { kNormal, kDelay, kHang, kEio } kind = kNormal;
        Duration min{0}, max{0};
    };
    Mode mode_at(TimePoint t) const;
    Outcome complete_under(const Mode& m, TimePoint t);

    std::vector<FaultStep> steps_;
    TimePoint origin_;
    std::mt19937 rng_;
};

// "delay 500 3000" -> true with the fields; anything outside the vocabulary -> false.
bool valid_fault_command(const std::string& command);

}  // namespace iohealth::peer
