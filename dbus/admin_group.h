#pragma once
// Who besides root may call the changing methods: the members of one Unix group. The name is
// resolved once at start-up, so the bus thread never does an NSS lookup (which may wait on
// LDAP or sssd); a call is then checked against the caller's own group list.
#include <sys/types.h>

#include <optional>
#include <string>

namespace iohealth {

struct AdminGroup {
    std::string name;          // as configured ([daemon] admin_group); empty: root only
    std::optional<gid_t> gid;  // unset: none configured, or the host does not know the name
};

// Looks `name` up with getgrnam_r. When a non-empty name cannot be resolved, `gid` stays unset
// and `problem` says why ("no such group", or the lookup's error).
AdminGroup resolve_admin_group(const std::string& name, std::string& problem);

}  // namespace iohealth
