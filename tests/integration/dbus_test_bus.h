#pragma once
// Test helpers: a private dbus-daemon, and python-dbusmock services (Debian's python3) on it.
// Nothing here touches the host's system bus.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

extern char** environ;

namespace iohealth::testing {

inline constexpr const char* kDbusDaemon = "/usr/bin/dbus-daemon";
inline constexpr const char* kDebianPython = "/usr/bin/python3";

// A session-type bus with no service activation (so nothing but our mocks answers) that any
// uid may connect to (tests act as nobody too).
inline constexpr const char* kOpenBusConfig = R"(<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow send_destination="*" eavesdrop="true"/>
  <allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
)";

// A started child; SIGTERM and reap on destruction.
class Child {
  public:
    Child() = default;
    // argv[0] absolute; `env` replaces nothing, it is appended; fd 3 becomes `fd3` if >= 0.
    Child(const std::vector<std::string>& argv, const std::vector<std::string>& env, int fd3 = -1,
          const std::string& log_path = "/dev/null") {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        std::vector<char*> envp;
        for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
        for (char** e = environ; *e; ++e) envp.push_back(*e);
        envp.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                         0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        if (fd3 >= 0) posix_spawn_file_actions_adddup2(&fa, fd3, 3);
        if (posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, args.data(), envp.data()) != 0)
            pid_ = -1;
        posix_spawn_file_actions_destroy(&fa);
    }
    ~Child() { stop(); }
    Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
    Child& operator=(Child&& o) noexcept {
        stop();
        pid_ = o.pid_;
        o.pid_ = -1;
        return *this;
    }
    pid_t pid() const { return pid_; }
    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

  private:
    pid_t pid_ = -1;
};

// A dbus-daemon on a config file (default: kOpenBusConfig written to a temp dir).
class PrivateBus {
  public:
    explicit PrivateBus(std::string config_path = "") {
        char tmpl[] = "/tmp/iohealth-bus-XXXXXX";
        dir_ = mkdtemp(tmpl);
        if (config_path.empty()) {
            config_path = dir_ + "/bus.conf";
            std::ofstream(config_path) << kOpenBusConfig;
        }
        int fds[2];
        if (pipe(fds) != 0) return;
        daemon_ = Child({kDbusDaemon, "--config-file=" + config_path, "--nofork", "--nopidfile",
                         "--print-address=3"},
                        {}, fds[1], dir_ + "/dbus-daemon.log");
        close(fds[1]);
        char c;
        while (read(fds[0], &c, 1) == 1 && c != '\n') address_ += c;
        close(fds[0]);
    }
    ~PrivateBus() {
        daemon_.stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    const std::string& address() const { return address_; }
    const std::string& dir() const { return dir_; }
    bool ok() const { return !address_.empty(); }

  private:
    std::string dir_;
    std::string address_;
    Child daemon_;
};

inline bool name_has_owner(sdbus::IConnection& connection, const std::string& name) {
    auto dbus = sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    bool owned = false;
    dbus->callMethod("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withArguments(name)
        .storeResultsTo(owned);
    return owned;
}

inline bool wait_for_name(sdbus::IConnection& connection, const std::string& name,
                          std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (name_has_owner(connection, name)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// python3 -m dbusmock --template <name> on the private bus (templates claim the system bus,
// which is $DBUS_SYSTEM_BUS_ADDRESS for the child).
class DbusMock {
  public:
    DbusMock(const PrivateBus& bus, const std::string& template_name, const std::string& service,
             const std::string& object_path)
        : DbusMock(bus.address(), bus.dir(), template_name, service, object_path) {}
    // On any bus (a SystemLikeBus whose policy lets root own `service`); its log in `log_dir`.
    DbusMock(const std::string& address, const std::string& log_dir,
             const std::string& template_name, const std::string& service,
             const std::string& object_path)
        : connection_(sdbus::createSessionBusConnectionWithAddress(address)),
          child_({kDebianPython, "-m", "dbusmock", "--template", template_name},
                 {"DBUS_SYSTEM_BUS_ADDRESS=" + address}, -1,
                 log_dir + "/" + template_name + ".log") {
        ready_ = wait_for_name(*connection_, service);
        mock_ = sdbus::createProxy(*connection_, service, object_path);
    }
    bool ready() const { return ready_; }

    void add_method(const std::string& interface, const std::string& name,
                    const std::string& in_sig, const std::string& out_sig,
                    const std::string& code) {
        mock_->callMethod("AddMethod")
            .onInterface(kMockInterface)
            .withArguments(interface, name, in_sig, out_sig, code)
            .storeResultsTo();
    }

    struct Call {
        std::string method;
        std::vector<sdbus::Variant> args;
    };
    std::vector<Call> calls() {
        std::vector<sdbus::Struct<std::uint64_t, std::string, std::vector<sdbus::Variant>>> raw;
        mock_->callMethod("GetCalls").onInterface(kMockInterface).storeResultsTo(raw);
        std::vector<Call> out;
        for (auto& c : raw) out.push_back({c.get<1>(), c.get<2>()});
        return out;
    }

  private:
    static constexpr const char* kMockInterface = "org.freedesktop.DBus.Mock";
    std::unique_ptr<sdbus::IConnection> connection_;
    Child child_;
    bool ready_ = false;
    std::unique_ptr<sdbus::IProxy> mock_;
};

}  // namespace iohealth::testing
