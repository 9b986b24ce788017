#include "daemon/storage_sources.h"

#include "sources/drbd/drbd_source.h"
#include "sources/nfs/nfs_source.h"

namespace iohealth {

std::vector<std::unique_ptr<StorageSource>> make_storage_sources(bool no_bpf, const Clock& clock) {
    std::vector<std::unique_ptr<StorageSource>> sources;
    sources.push_back(std::make_unique<DrbdSource>(DrbdSource::Options{}, clock));
    NfsSource::Options nfs;
    nfs.probes = !no_bpf;  // --no-bpf: /proc/self/mountstats only, like diskstats for disks
    sources.push_back(std::make_unique<NfsSource>(nfs));
    return sources;
}

}  // namespace iohealth
