// Issue 15, the daemon's inputs, through the real iohealthd: configuration files it cannot
// read exactly are refused by `--check-config` with file:line and the rule broken.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "system_bus.h"
#include "temp_dir.h"

namespace iohealth {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_status;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// `iohealthd --check-config -c FILE`, cut after 20 s so a hang fails instead of blocking.
CommandResult check_config(const fs::path& file) {
    return run_status("timeout 20 " + std::string(IOHEALTHD) + " --check-config -c '" +
                      file.string() + "'");
}

class ConfigInputTest : public ::testing::Test {
  protected:
    void write(const fs::path& relative, const std::string& text) {
        std::ofstream(root_ / relative, std::ios::binary) << text;
    }
    fs::path main() const { return root_ / "iohealthd.conf"; }
    testing::TempDir dir_;
    const fs::path root_ = dir_.path();
};

TEST_F(ConfigInputTest, TextAfterASectionHeaderIsRefused) {
    write("iohealthd.conf", "[daemon]\nmode = armed\n[policy] ladder = log-only\n");
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, main().string() + ":3: text after the section header's ']'"))
        << r.err;
}

TEST_F(ConfigInputTest, CrOnlyLineEndingsAreRefused) {
    write("iohealthd.conf", "[daemon]\rmode = armed\r[policy]\rladder = log-only\r");
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, main().string() + ":1: carriage return without a line feed"))
        << r.err;
}

TEST_F(ConfigInputTest, DevZeroIsRefusedWithoutReadingIt) {
    const CommandResult r = check_config("/dev/zero");
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "/dev/zero: not a regular file (a character device)")) << r.err;
}

TEST_F(ConfigInputTest, FifoIsRefusedWithoutHanging) {
    ASSERT_EQ(mkfifo(main().c_str(), 0600), 0);
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1) << "124 means it hung until timeout(1) killed it";
    EXPECT_TRUE(contains(r.err, main().string() + ": not a regular file (a FIFO)")) << r.err;
}

TEST_F(ConfigInputTest, OversizedFileIsRefused) {
    write("iohealthd.conf", "[policy]\n" + std::string(2 << 20, '#') + "\n");
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, main().string() + ": larger than 1024 KiB")) << r.err;
}

TEST_F(ConfigInputTest, DropInsThatAreNotRegularFilesAreRefused) {
    write("iohealthd.conf", "[policy]\nio_timeout = 10s\n");
    const fs::path d = root_ / "iohealthd.conf.d";
    fs::create_directory(d);
    ASSERT_EQ(mkfifo((d / "fifo.conf").c_str(), 0600), 0);
    fs::create_symlink(root_ / "missing.conf", d / "dangling.conf");
    fs::create_directory(d / "x.conf");
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, (d / "fifo.conf").string() + ": not a regular file (a FIFO)"))
        << r.err;
    EXPECT_TRUE(contains(
        r.err, (d / "dangling.conf").string() + ": cannot read: dangling symbolic link to"))
        << r.err;
    EXPECT_TRUE(contains(r.err, (d / "x.conf").string() + ": not a regular file (a directory)"))
        << r.err;
    EXPECT_TRUE(contains(r.err, "configuration refused (3 errors)")) << r.err;
}

}  // namespace
}  // namespace iohealth
