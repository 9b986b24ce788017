#include "config/config_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace iohealth {
namespace {

const char* file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a file";
}

// open() failed with `error`: say what the name is when that explains it better.
std::string open_failure(const std::filesystem::path& file, int error) {
    struct stat st {};
    if (error == ENOENT && ::lstat(file.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(file, ec);
        return fmt::format("cannot read: dangling symbolic link to '{}'", target.string());
    }
    return fmt::format("cannot read: {}", std::strerror(error));
}

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace

Expected<std::string> read_config_file(const std::filesystem::path& file) {
    using Result = Expected<std::string>;
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused right after.
    const Fd fd(::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) return Result::failure(open_failure(file, errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return Result::failure(fmt::format("cannot read: {}", std::strerror(errno)));
    if (!S_ISREG(st.st_mode))
        return Result::failure(fmt::format("not a regular file ({})", file_kind(st.st_mode)));
    const auto too_big = [] {
        return Result::failure(fmt::format("larger than {} KiB: not a configuration file",
                                           kMaxConfigFileBytes / 1024));
    };
    if (static_cast<std::size_t>(st.st_size) > kMaxConfigFileBytes) return too_big();
    // Read one byte past the limit, so a file that grew since fstat() is caught too.
    std::string text(kMaxConfigFileBytes + 1, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Result::failure(fmt::format("cannot read: {}", std::strerror(errno)));
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got > kMaxConfigFileBytes) return too_big();
    text.resize(got);
    return text;
}

}  // namespace iohealth
