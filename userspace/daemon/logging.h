#pragma once
// Where iohealthd's diagnostics go. Under systemd, stdout and stderr are a stream to journald
// that stores every line at one priority (info), so a "DEGRADED MODE" warning would hide from
// `journalctl -p warning`. There, diagnostics are sent with sd_journal_send and their real
// priority; elsewhere they are printed with a timestamp and level.
#include <string>

namespace iohealth {

// True when stderr is the journal stream systemd set up ($JOURNAL_STREAM names its device and
// inode, systemd.exec(5)): not when a child inherited the variable but was redirected.
bool stderr_is_journal();

// Installs the default spdlog logger for the daemon at `level` (debug, info, warn, error).
void setup_logging(const std::string& level);

// The syslog prefix ("<4>") journald reads at the start of a stream line for `priority`
// (LOG_WARNING, ...), or "" when stderr is not the journal. For text printed before or
// outside spdlog (configuration errors).
const char* stream_priority_prefix(int priority);

}  // namespace iohealth
