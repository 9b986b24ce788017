// libFuzzer target for the configuration loader. Beyond "no crash, no sanitizer report" it
// checks two properties: a result has a config exactly when it has no errors, and the
// rendering of an accepted config loads back, without errors, to the same values.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "config/config.h"

namespace {

// The rendering without its origin comments (they name the file, which differs).
std::string values_only(const std::string& rendered) {
    std::istringstream in(rendered);
    std::string out;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        out += line.substr(0, line.find(" ;")) + '\n';
    }
    return out;
}

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "config_fuzz: %s\n%s\n", what, detail.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const iohealth::ConfigResult result = iohealth::load_config_text(text, "fuzz.conf");
    for (const iohealth::ConfigError& e : result.errors) (void)e.to_string();
    if (result.config.has_value() == !result.errors.empty())
        fail("config present and errors present disagree", std::string(text));
    if (!result.config) return 0;

    const std::string rendered = iohealth::render_effective(*result.config);
    const iohealth::ConfigResult again = iohealth::load_config_text(rendered, "rendered.conf");
    if (!again.config) fail("rendering does not load back", again.errors.front().to_string());
    if (values_only(iohealth::render_effective(*again.config)) != values_only(rendered))
        fail("rendering loads back to different values", rendered);
    return 0;
}
