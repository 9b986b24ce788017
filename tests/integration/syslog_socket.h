#pragma once
// A syslog socket for a test: logger --socket PATH sends its datagrams here instead of
// /dev/log ("<PRI>...TAG: MESSAGE"); lines() returns what arrived so far.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace iohealth::testing {

class SyslogSocket {
  public:
    explicit SyslogSocket(std::string path) : path_(std::move(path)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        ::unlink(path_.c_str());
        if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~SyslogSocket() {
        if (fd_ >= 0) ::close(fd_);
        ::unlink(path_.c_str());
    }
    SyslogSocket(const SyslogSocket&) = delete;
    SyslogSocket& operator=(const SyslogSocket&) = delete;

    bool ok() const { return fd_ >= 0; }
    const std::string& path() const { return path_; }

    // Every datagram received since the last call.
    std::vector<std::string> lines() {
        std::vector<std::string> out;
        char buf[8192];
        for (ssize_t n; fd_ >= 0 && (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;)
            out.emplace_back(buf, static_cast<std::size_t>(n));
        return out;
    }

  private:
    std::string path_;
    int fd_ = -1;
};

// syslog's <PRI> of a user-facility message at `severity` (2 crit, 4 warning, 5 notice).
inline std::string user_priority(int severity) {
    return "<" + std::to_string(8 + severity) + ">";
}

}  // namespace iohealth::testing
