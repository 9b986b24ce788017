#include "daemon/storage_sources.h"

#include "sources/drbd_source.h"

namespace iohealth {

std::vector<std::unique_ptr<StorageSource>> make_storage_sources(const DaemonConfig&) {
    // The daemon's clock is CLOCK_MONOTONIC too; one that lives as long as the process.
    static const SteadyClock clock;
    std::vector<std::unique_ptr<StorageSource>> sources;
    sources.push_back(std::make_unique<DrbdSource>(DrbdSource::Options{}, clock));
    return sources;
}

}  // namespace iohealth
