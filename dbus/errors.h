#pragma once
// The bus API's error names: one table for the daemon (which throws them) and the CLI (which
// maps them back to messages and exit codes).
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace iohealth {

enum class BusError {
    kNoSuchPath,       // no monitored path by that name
    kInvalidArgument,  // a value outside its documented set
    kAccessDenied,     // the caller may not change anything (not root, not in admin_group)
    kFailed,           // the daemon could not do it; the message says why
    kInternal,         // a bug: an unexpected exception inside a handler
};

// "org.iohealth.IoHealth1.Error.NoSuchPath"
std::string_view error_name(BusError e);
std::optional<BusError> bus_error_from_name(std::string_view name);

// What a ControlHandler throws to refuse a request; the service sends it as the named error.
class ControlError : public std::runtime_error {
  public:
    ControlError(BusError code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    BusError code() const { return code_; }

  private:
    BusError code_;
};

}  // namespace iohealth
