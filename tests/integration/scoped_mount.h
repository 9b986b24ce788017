#pragma once
// mount(2) for a test's lifetime: unmounted (lazily) even when an assertion returns early.
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace iohealth::testing {

class ScopedMount {
  public:
    ScopedMount(const std::string& source, const std::string& target, const std::string& type,
                const std::string& data = "", unsigned long flags = 0)
        : target_(target) {
        if (::mount(source.c_str(), target.c_str(), type.c_str(), flags,
                    data.empty() ? nullptr : data.c_str()) != 0)
            throw std::runtime_error("Failed to mount " + type + " '" + source + "' on '" + target +
                                     "': " + std::strerror(errno));
    }
    ScopedMount(const ScopedMount&) = delete;
    ScopedMount& operator=(const ScopedMount&) = delete;
    ~ScopedMount() { ::umount2(target_.c_str(), MNT_DETACH); }

  private:
    std::string target_;
};

}  // namespace iohealth::testing
