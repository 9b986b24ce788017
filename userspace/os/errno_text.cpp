#include "os/errno_text.h"

#include <fmt/format.h>

#include <cstring>

namespace iohealth {

std::string errno_text(int err) {
    return std::strerror(err < 0 ? -err : err);
}

std::string errno_name_text(int err) {
    if (err < 0) err = -err;
    const char* name = strerrorname_np(err);
    const char* desc = strerrordesc_np(err);
    return fmt::format("{} ({})", name ? name : std::to_string(err).c_str(),
                       desc ? desc : "unknown error");
}

}  // namespace iohealth
