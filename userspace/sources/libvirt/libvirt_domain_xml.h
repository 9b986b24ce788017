#pragma once
// A libvirt domain XML document (virDomainGetXMLDesc) to the guest's name, uuid and disks,
// with libxml2. Only the disks' images are read; where they live is found later
// (libvirt_disk_location.h), so this stays a pure function of the text.
#include <string>
#include <string_view>
#include <vector>

#include "sources/libvirt/libvirt_vm.h"

namespace iohealth {

struct DomainXml {
    std::string name;
    std::string uuid;
    std::vector<VmDisk> disks;  // in document order; DiskLocation::dev/mount_point not set
};

// Throws std::runtime_error naming what is wrong (not XML, not a <domain>).
DomainXml parse_domain_xml(std::string_view xml);

}  // namespace iohealth
