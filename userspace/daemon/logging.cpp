#include "daemon/logging.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

namespace iohealth {

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    if (!stream || std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    return fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void setup_logging(const std::string& level) {
    if (stderr_is_journal()) {
        // SYSLOG_IDENTIFIER as the stream's lines have it, so `journalctl -t iohealthd` finds
        // both; the journal adds time and priority itself.
        spdlog::set_default_logger(spdlog::systemd_logger_mt("iohealthd", "iohealthd"));
    } else {
        spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    }
    spdlog::set_level(spdlog::level::from_str(level));
}

const char* stream_priority_prefix(int priority) {
    static const bool journal = stderr_is_journal();
    if (!journal) return "";
    switch (priority) {
        case LOG_ERR:
            return "<3>";
        case LOG_WARNING:
            return "<4>";
        default:
            return "<6>";
    }
}

}  // namespace iohealth
