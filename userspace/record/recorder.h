#pragma once
// Records the evidence stream of a run as JSON lines, so `iohealthd --replay FILE` can run
// it through the same classifier and escalation, deterministically. Line 1 is a header with
// the effective policy of every path; then, in order, one line per sample, action result
// and mode command.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/evidence.h"
#include "core/executor.h"
#include "core/mode.h"
#include "core/policy.h"

namespace iohealth {

inline constexpr int kRecordVersion = 1;

class Recorder {
  public:
    // Throws std::runtime_error naming the file when it cannot be created.
    Recorder(const std::filesystem::path& file, const std::vector<PathConfig>& paths, Mode mode);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    void sample(const std::string& path, const Sample& s);
    void result(const ActionResult& r, TimePoint at);
    void set_mode(Mode mode, const std::string& reason, TimePoint at);
    void maintenance(Duration length, const std::string& reason, TimePoint at);
    void flush();

  private:
    void write(const std::string& line);
    std::FILE* out_;
};

}  // namespace iohealth
