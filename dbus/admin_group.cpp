#include "dbus/admin_group.h"

#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace iohealth {

AdminGroup resolve_admin_group(const std::string& name, std::string& problem) {
    AdminGroup group{name, std::nullopt};
    if (name.empty()) return group;
    const long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
    std::vector<char> buffer(hint > 0 ? std::size_t(hint) : 1024);
    struct group entry {};
    struct group* found = nullptr;
    int rc;
    // A group with many members needs a bigger buffer than the hint.
    while ((rc = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
               ERANGE &&
           buffer.size() < (1u << 24))
        buffer.resize(buffer.size() * 2);
    if (rc != 0)
        problem = std::strerror(rc);
    else if (!found)
        problem = "no such group";
    else
        group.gid = found->gr_gid;
    return group;
}

}  // namespace iohealth
