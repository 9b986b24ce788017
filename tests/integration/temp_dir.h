#pragma once
// A temporary directory removed (recursively) with its owner.
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace iohealth::testing {

class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "iohealth") {
        std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("Failed to create " + tmpl);
        path_ = tmpl;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace iohealth::testing
