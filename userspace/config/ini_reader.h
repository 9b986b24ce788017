#pragma once
// libinih with what iohealth needs on top: a line number for every key (the distro's libinih
// is built without INI_HANDLER_LINENO), every syntax error instead of only the first, and
// section headers seen even when the section is empty (no INI_CALL_HANDLER_ON_NEW_SECTION).
#include <ini.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace iohealth {

struct IniSection {
    std::string name;
    int line = 0;
};

struct IniEntry {
    std::string section;
    std::string key;
    std::string value;
    int line = 0;
};

struct IniDocument {
    std::vector<IniSection> sections;  // every well-formed header, in order
    std::vector<IniEntry> entries;     // every key, in order; keys under a malformed header
                                       // are dropped (their section is unknown)
};

// The longest line libinih reads whole (its INI_MAX_LINE buffer holds the NUL too). Longer
// lines are refused unless they fit once their comment is dropped.
inline constexpr std::size_t kMaxLineChars = INI_MAX_LINE - 1;

// Syntax errors are appended to `errors`, named `file`.
IniDocument read_ini(std::string_view text, std::string_view file,
                     std::vector<ConfigError>& errors);

}  // namespace iohealth
