#pragma once
// The storage-specific sources (DRBD, NFS) the daemon runs besides the block source.
#include <memory>
#include <vector>

#include "core/source.h"

namespace iohealth {

// Every storage source this build has, in the order paths are offered to them: the first
// whose handles() is true owns a path. `no_bpf`: their eBPF probes stay unloaded too. `clock`
// outlives them.
std::vector<std::unique_ptr<StorageSource>> make_storage_sources(bool no_bpf, const Clock& clock);

}  // namespace iohealth
