#include "sources/libvirt/libvirt_domain_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <fmt/format.h>
#include <memory>
#include <stdexcept>

namespace iohealth {
namespace {

struct XmlDocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

bool named(const xmlNode* n, std::string_view name) {
    return n->type == XML_ELEMENT_NODE && reinterpret_cast<const char*>(n->name) == name;
}

const xmlNode* child(const xmlNode* parent, std::string_view name) {
    for (const xmlNode* c = parent ? parent->children : nullptr; c; c = c->next)
        if (named(c, name)) return c;
    return nullptr;
}

std::string attribute(const xmlNode* n, const char* name) {
    if (!n) return {};
    xmlChar* value = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
    if (!value) return {};
    std::string out(reinterpret_cast<const char*>(value));
    xmlFree(value);
    return out;
}

std::string text(const xmlNode* n) {
    if (!n) return {};
    xmlChar* value = xmlNodeGetContent(n);
    if (!value) return {};
    std::string out(reinterpret_cast<const char*>(value));
    xmlFree(value);
    return out;
}

// The image a <disk> or <backingStore> element names through its type and <source>.
DiskLocation image(const xmlNode* element) {
    DiskLocation l;
    l.type = attribute(element, "type");
    const xmlNode* source = child(element, "source");
    if (l.type == "file")
        l.path = attribute(source, "file");
    else if (l.type == "block")
        l.path = attribute(source, "dev");
    else if (l.type == "dir")
        l.path = attribute(source, "dir");
    else if (l.type == "network")
        l.path = fmt::format("{}:{}", attribute(source, "protocol"), attribute(source, "name"));
    else if (l.type == "volume")
        l.path = fmt::format("{}/{}", attribute(source, "pool"), attribute(source, "volume"));
    return l;
}

VmDisk disk(const xmlNode* element) {
    VmDisk d;
    d.target = attribute(child(element, "target"), "dev");
    d.alias = attribute(child(element, "alias"), "name");
    d.device = attribute(element, "device");
    if (d.device.empty()) d.device = "disk";
    // An empty drive (a CD-ROM with no medium) has no <source>: nothing to depend on.
    if (child(element, "source")) d.images.push_back(image(element));
    // The live XML lists the backing chain as nested <backingStore>; an empty one ends it.
    for (const xmlNode* b = child(element, "backingStore"); b && child(b, "source");
         b = child(b, "backingStore"))
        d.images.push_back(image(b));
    return d;
}

}  // namespace

DomainXml parse_domain_xml(std::string_view xml) {
    std::unique_ptr<xmlDoc, XmlDocFree> doc(
        xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "domain.xml", nullptr,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc) throw std::runtime_error("domain XML does not parse");
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!root || !named(root, "domain"))
        throw std::runtime_error("domain XML: the root element is not <domain>");
    DomainXml out;
    out.name = text(child(root, "name"));
    out.uuid = text(child(root, "uuid"));
    if (out.name.empty()) throw std::runtime_error("domain XML: <domain> has no <name>");
    for (const xmlNode* n = child(root, "devices") ? child(root, "devices")->children : nullptr; n;
         n = n->next)
        if (named(n, "disk")) out.disks.push_back(disk(n));
    return out;
}

}  // namespace iohealth
