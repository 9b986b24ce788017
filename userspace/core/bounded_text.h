#pragma once
// Text from outside (bus callers, files) where it is shown: in a log line, an event line or an
// error reply. Control characters are escaped so one value stays one line and cannot forge
// another, and an error quotes only a short prefix of what it refuses.
#include <cstddef>
#include <string>
#include <string_view>

namespace iohealth {

// `text` with bytes below 0x20 and 0x7f written as \n, \r, \t, \\ or \xNN; a backslash
// becomes \\ so the escaping cannot be forged either. Other bytes are kept (UTF-8 passes).
std::string escape_control(std::string_view text);

// 'text', escaped; beyond `max_bytes` only its first bytes (never half a UTF-8 character)
// followed by "…' (N bytes)".
std::string quote_input(std::string_view text, std::size_t max_bytes = 64);

}  // namespace iohealth
