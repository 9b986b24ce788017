#pragma once
// Sources only observe. They are polled once per tick from the main loop and must never
// block on storage (a prober thread does the I/O; a source only reads counters).
#include <sys/types.h>

#include <map>
#include <string_view>
#include <vector>

#include "core/evidence.h"

namespace iohealth {

// Block-layer evidence keyed by device number (major:minor of the whole disk or partition).
class KernelSource {
  public:
    virtual ~KernelSource() = default;
    virtual std::string_view name() const = 0;
    // The devices of interest; a source may ignore the rest (BPF allow-list) or not.
    virtual void set_devices(const std::vector<dev_t>& devices) = 0;
    // Evidence for the tick that ends at `now`: deltas since the previous call. The first
    // call only establishes the baseline and may return zero deltas. A device that vanished
    // is absent from the result.
    virtual std::map<dev_t, KernelEvidence> collect(TimePoint now) = 0;
};

}  // namespace iohealth
