#pragma once
// A private dbus-daemon configured like the system bus (Debian's system.conf defaults, no
// activation) with only iohealth's shipped policy file (dbus/org.iohealth.IoHealth1.conf)
// included, in a directory every uid can reach (tests act as nobody too). Nothing here
// touches the host's system bus.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "dbus_test_bus.h"

namespace iohealth::testing {

// Debian's /usr/share/dbus-1/system.conf policy, minus activation, listening in `dir`.
inline std::string system_like_config(const std::filesystem::path& dir) {
    return R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=)" +
           (dir / "system_bus_socket").string() + R"(</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <includedir>)" +
           (dir / "system.d").string() + R"(</includedir>
</busconfig>
)";
}

// The bus and its directory (removed on destruction). The directory also holds a copy of
// tests/integration/dbus_call.py, reachable by nobody. `dropin`, when given, is a further
// policy file in system.d (read after ours, as /etc/dbus-1/system.d would be).
class SystemLikeBus {
  public:
    explicit SystemLikeBus(const std::string& dropin = "") {
        namespace fs = std::filesystem;
        char tmpl[] = "/tmp/iohealth-sysbus-XXXXXX";
        dir_ = mkdtemp(tmpl);
        fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
        fs::create_directory(dir_ / "system.d");
        fs::copy_file(fs::path(IOHEALTH_SOURCE_DIR) / "dbus/org.iohealth.IoHealth1.conf",
                      dir_ / "system.d/org.iohealth.IoHealth1.conf");
        if (!dropin.empty()) std::ofstream(dir_ / "system.d/zz-test-dropin.conf") << dropin;
        fs::copy_file(fs::path(IOHEALTH_SOURCE_DIR) / "tests/integration/dbus_call.py",
                      dir_ / "dbus_call.py");
        std::ofstream(dir_ / "bus.conf") << system_like_config(dir_);
        start();
    }
    // Stops dbus-daemon (SIGTERM, as a dbus upgrade does); start() brings it back at the same
    // socket path.
    void stop() { bus_.reset(); }
    bool start() {
        std::error_code ec;
        std::filesystem::remove(dir_ / "system_bus_socket", ec);
        bus_ = std::make_unique<PrivateBus>((dir_ / "bus.conf").string());
        return bus_->ok();
    }
    ~SystemLikeBus() {
        bus_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    bool ok() const { return bus_ && bus_->ok(); }
    // unix:path=DIR/system_bus_socket,guid=...: the guid changes with every start.
    const std::string& address() const { return bus_->address(); }
    std::string socket_address() const {
        return "unix:path=" + (dir_ / "system_bus_socket").string();
    }
    const std::filesystem::path& dir() const { return dir_; }

  private:
    std::filesystem::path dir_;
    std::unique_ptr<PrivateBus> bus_;
};

// A shell command's stdout, and stderr when `with_stderr`.
inline std::string run_command(const std::string& command, bool with_stderr = true) {
    std::string out;
    FILE* p = popen((command + (with_stderr ? " 2>&1" : "")).c_str(), "r");
    if (!p) return "popen failed";
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
    return out;
}

struct CommandResult {
    std::string out;
    std::string err;
    int status = -1;  // exit status, -1 when it did not exit normally
};

// A shell command with stdout and stderr apart, and its exit status.
inline CommandResult run_status(const std::string& command) {
    char tmpl[] = "/tmp/iohealth-stderr-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    CommandResult r;
    FILE* p = popen((command + " 2>" + tmpl).c_str(), "r");
    if (!p) return r;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) r.out += buf;
    const int status = pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(tmpl);
    r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    unlink(tmpl);
    return r;
}

}  // namespace iohealth::testing
