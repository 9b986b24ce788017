#include "state/json_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace iohealth::state {
namespace {

std::string errno_text(const std::string& what, const std::filesystem::path& p) {
    return what + " '" + p.string() + "': " + std::strerror(errno);
}

// Writes all of `text` to `fd`.
bool write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

std::string write_json_file(const std::filesystem::path& file, const nlohmann::json& value) {
    const std::filesystem::path dir = file.parent_path();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return "Failed to create '" + dir.string() + "': " + ec.message();
    const std::filesystem::path tmp = file.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno_text("Failed to create", tmp);
    const bool ok = write_all(fd, value.dump() + "\n") && ::fsync(fd) == 0;
    const std::string why = ok ? "" : errno_text("Failed to write", tmp);
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        return why;
    }
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        const std::string failed = errno_text("Failed to rename onto", file);
        ::unlink(tmp.c_str());
        return failed;
    }
    // The rename itself is durable once the directory is.
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return errno_text("Failed to open", dir);
    const bool synced = ::fsync(dfd) == 0;
    const std::string dir_why = synced ? "" : errno_text("Failed to sync", dir);
    ::close(dfd);
    return dir_why;
}

Expected<std::optional<nlohmann::json>> read_json_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) {
        if (errno == ENOENT) return std::optional<nlohmann::json>{};
        return Expected<std::optional<nlohmann::json>>::failure(errno_text("cannot read", file));
    }
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
        return Expected<std::optional<nlohmann::json>>::failure(
            "'" + file.string() + "' is not a JSON object (truncated or corrupt)");
    return std::optional<nlohmann::json>{std::move(j)};
}

std::string remove_file(const std::filesystem::path& file) {
    if (::unlink(file.c_str()) == 0 || errno == ENOENT) return "";
    return errno_text("Failed to remove", file);
}

}  // namespace iohealth::state
