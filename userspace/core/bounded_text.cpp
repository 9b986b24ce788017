#include "core/bounded_text.h"

#include <fmt/format.h>

namespace iohealth {

std::string escape_control(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\\':
                out += "\\\\";
                break;
            default:
                if (byte < 0x20 || byte == 0x7f)
                    out += fmt::format("\\x{:02x}", byte);
                else
                    out += c;
        }
    }
    return out;
}

std::string quote_input(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return "'" + escape_control(text) + "'";
    std::size_t cut = max_bytes;
    // Back to the start of a UTF-8 character: the bus refuses a reply that is not UTF-8.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return fmt::format("'{}…' ({} bytes)", escape_control(text.substr(0, cut)), text.size());
}

}  // namespace iohealth
