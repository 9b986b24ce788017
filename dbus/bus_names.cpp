#include "dbus/bus_names.h"

#include <stdlib.h>
#include <systemd/sd-bus.h>

#include <memory>
#include <new>

namespace iohealth {

std::string path_object(const std::string& name) {
    char* out = nullptr;
    if (sd_bus_path_encode(kPathPrefix, name.c_str(), &out) < 0) throw std::bad_alloc();
    std::unique_ptr<char, decltype(&free)> owned(out, &free);
    return out;
}

std::string path_name(const std::string& object) {
    char* out = nullptr;
    if (sd_bus_path_decode(object.c_str(), kPathPrefix, &out) <= 0) return "";
    std::unique_ptr<char, decltype(&free)> owned(out, &free);
    return out;
}

}  // namespace iohealth
