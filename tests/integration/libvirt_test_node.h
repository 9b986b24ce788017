#pragma once
// Guests for libvirt's test:/// driver: a node file (test:///ABS/PATH/node.xml opens a private
// driver instance holding its domains) or one domain's XML (virDomainCreateXML on
// test:///default). Disks are block devices or files, named by the test.
#include <fmt/format.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace iohealth::testing {

struct TestDisk {
    std::string type;  // "block" or "file"
    std::string path;
    std::string target;  // "vda"
};

struct TestDomain {
    std::string name;
    std::string uuid;  // fixed, so that two connections to one node file agree
    std::vector<TestDisk> disks;
    int runstate = 1;  // virDomainState: 1 running, 3 paused, 5 shut off
};

inline std::string test_domain_xml(const TestDomain& d) {
    std::string disks;
    for (const auto& disk : d.disks)
        disks += fmt::format(
            "   <disk type='{0}' device='disk'><source {1}='{2}'/><target dev='{3}'/>"
            "<alias name='virtio-{3}'/></disk>\n",
            disk.type, disk.type == "block" ? "dev" : "file", disk.path, disk.target);
    return fmt::format(
        " <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
        "  <name>{}</name>\n  <uuid>{}</uuid>\n  <memory>65536</memory>\n"
        "  <os><type>hvm</type></os>\n  <test:runstate>{}</test:runstate>\n"
        "  <devices>\n{}  </devices>\n </domain>\n",
        d.name, d.uuid, d.runstate, disks);
}

// Returns the URI that opens it.
inline std::string write_test_node(const std::string& file,
                                   const std::vector<TestDomain>& domains) {
    std::ofstream out(file);
    out << "<node>\n";
    for (const auto& d : domains) out << test_domain_xml(d);
    out << "</node>\n";
    if (!out) throw std::runtime_error("Failed to write " + file);
    return "test://" + file;
}

}  // namespace iohealth::testing
