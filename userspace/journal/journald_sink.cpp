// Before the first include of sd-journal.h: otherwise every entry says CODE_FUNC=emit.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include "journal/journald_sink.h"

#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstring>

#include <spdlog/spdlog.h>

namespace iohealth {

std::vector<std::string> journal_fields(const Event& e) {
    std::vector<std::string> f;
    f.push_back("MESSAGE_ID=" + std::string(message_id(e.type)));
    f.push_back("PRIORITY=" + std::to_string(e.priority));
    f.push_back("MESSAGE=" + (e.path.empty() ? e.message : e.path + ": " + e.message));
    f.push_back("SYSLOG_IDENTIFIER=iohealthd");
    f.push_back("DOCUMENTATION=man:iohealthd(8)");
    f.push_back("IOHEALTH_EVENT=" + std::string(to_string(e.type)));
    if (!e.path.empty()) f.push_back("IOHEALTH_PATH=" + e.path);
    for (const auto& [key, value] : e.fields) f.push_back("IOHEALTH_" + key + "=" + value);
    return f;
}

void JournaldSink::emit(const Event& e) {
    const auto fields = journal_fields(e);
    std::vector<iovec> iov;
    iov.reserve(fields.size());
    for (const auto& s : fields)
        iov.push_back({const_cast<char*>(s.data()), s.size()});  // sendv does not write
    const int r = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    if (r < 0)
        spdlog::warn("Failed to send {} event to journald: {}, ignoring", to_string(e.type),
                     std::strerror(-r));
}

}  // namespace iohealth
