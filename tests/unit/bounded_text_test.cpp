// core/bounded_text.h: escaping and short quotes of outside text.
#include "core/bounded_text.h"

#include <gtest/gtest.h>

namespace iohealth {
namespace {

TEST(BoundedText, ControlCharactersAndBackslashesAreEscaped) {
    EXPECT_EQ(escape_control("plain text, ünïcode"), "plain text, ünïcode");
    EXPECT_EQ(escape_control("a\nb\rc\td"), "a\\nb\\rc\\td");
    EXPECT_EQ(escape_control(std::string("x\x01y\x7fz\0", 6)), "x\\x01y\\x7fz\\x00");
    // A literal backslash-n in the input stays distinguishable from an escaped newline.
    EXPECT_EQ(escape_control("a\\nb"), "a\\\\nb");
}

TEST(BoundedText, QuotesAShortPrefixWithTheLength) {
    EXPECT_EQ(quote_input("armed"), "'armed'");
    EXPECT_EQ(quote_input(std::string(64, 'x')), "'" + std::string(64, 'x') + "'");
    EXPECT_EQ(quote_input(std::string(65, 'x')), "'" + std::string(64, 'x') + "…' (65 bytes)");
    EXPECT_EQ(quote_input("a\nb", 8), "'a\\nb'");
}

TEST(BoundedText, NeverCutsAUtf8Character) {
    // "é" is two bytes: a cut after 4 bytes would split the third one.
    EXPECT_EQ(quote_input("ééé", 5), "'éé…' (6 bytes)");
}

}  // namespace
}  // namespace iohealth
