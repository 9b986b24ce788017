#pragma once
// RAII zram device for integration tests: a fresh /dev/zramN from zram-control/hot_add (so no
// other user's I/O lands on it), sized, and removed again. zram is bio-based: it is the one
// bio-based driver this machine kind has (no DRBD, dm or md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

namespace iohealth::testing {

class ZramDevice {
  public:
    static bool available() { return ::access("/sys/class/zram-control/hot_add", R_OK) == 0; }

    explicit ZramDevice(const std::string& disksize = "64M") {
        std::ifstream add("/sys/class/zram-control/hot_add");
        if (!(add >> number_))
            throw std::runtime_error("Failed to add a zram device: " +
                                     std::string(std::strerror(errno)));
        write_sysfs("/sys/block/" + name() + "/disksize", disksize);
        struct stat st {};
        if (::stat(path().c_str(), &st) != 0) {
            remove();
            throw std::runtime_error("Failed to stat " + path() + ": " + std::strerror(errno));
        }
        dev_ = st.st_rdev;
    }
    ZramDevice(const ZramDevice&) = delete;
    ZramDevice& operator=(const ZramDevice&) = delete;
    ~ZramDevice() { remove(); }

    std::string name() const { return "zram" + std::to_string(number_); }
    std::string path() const { return "/dev/" + name(); }
    dev_t dev() const { return dev_; }

  private:
    static void write_sysfs(const std::string& file, const std::string& value) {
        std::ofstream out(file);
        out << value << std::flush;
        if (!out) throw std::runtime_error("Failed to write '" + value + "' to " + file);
    }
    void remove() {
        if (number_ < 0) return;
        std::ofstream("/sys/block/" + name() + "/reset") << "1" << std::flush;
        std::ofstream("/sys/class/zram-control/hot_remove") << number_ << std::flush;
        number_ = -1;
    }

    int number_ = -1;
    dev_t dev_ = 0;
};

}  // namespace iohealth::testing
