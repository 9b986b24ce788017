#pragma once
#include <string>
#include <vector>

#include "journal/event_sink.h"

namespace iohealth {

// "FIELD=value" strings for one event: MESSAGE_ID, PRIORITY, MESSAGE, SYSLOG_IDENTIFIER,
// DOCUMENTATION, IOHEALTH_EVENT, IOHEALTH_PATH and every IOHEALTH_* evidence field.
std::vector<std::string> journal_fields(const Event& e);

// Structured events through sd_journal_sendv(). libsystemd returns success without journald
// (no socket), so tests check journal_fields() and the daemon also logs to stderr.
class JournaldSink final : public EventSink {
  public:
    void emit(const Event& e) override;
};

}  // namespace iohealth
