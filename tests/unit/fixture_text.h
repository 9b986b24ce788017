#pragma once
// The text of tests/fixtures/<dir>/<name>; a missing fixture fails the calling test.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace iohealth {

inline std::string fixture_path(const std::string& dir, const std::string& name) {
    return std::string(IOHEALTH_SOURCE_DIR) + "/tests/fixtures/" + dir + "/" + name;
}

inline std::string fixture_text(const std::string& dir, const std::string& name) {
    std::ifstream in(fixture_path(dir, name));
    EXPECT_TRUE(in) << "missing fixture " << dir << "/" << name;
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace iohealth
