#pragma once
// The bus API's fixed names, shared by iohealthd and iohealthctl.
#include <string>

namespace iohealth {

inline constexpr const char* kBusName = "org.iohealth.IoHealth1";
inline constexpr const char* kManagerPath = "/org/iohealth/IoHealth1";
inline constexpr const char* kPathPrefix = "/org/iohealth/IoHealth1/path";
inline constexpr const char* kManagerInterface = "org.iohealth.IoHealth1.Manager";
inline constexpr const char* kPathInterface = "org.iohealth.IoHealth1.Path";

// A path's name as an object path element, escaped as systemd escapes unit names
// (sd_bus_path_encode: "dm-0" -> ".../path/dm_2d0"); object paths allow only [A-Za-z0-9_].
std::string path_object(const std::string& name);
// The inverse; empty when `object` is not a path object.
std::string path_name(const std::string& object);

}  // namespace iohealth
