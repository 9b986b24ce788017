#include "record/recorder.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "record/json.h"

namespace iohealth {

Recorder::Recorder(const std::filesystem::path& file, const std::vector<PathConfig>& paths,
                   Mode mode)
    : out_(std::fopen(file.c_str(), "we")) {
    if (!out_)
        throw std::runtime_error("Failed to create recording '" + file.string() +
                                 "': " + std::strerror(errno));
    nlohmann::json header{{"format", "iohealth-record"},
                          {"version", kRecordVersion},
                          {"mode", to_string(mode)},
                          {"paths", nlohmann::json::array()}};
    for (const auto& p : paths) header["paths"].push_back(to_json(p));
    write(header.dump());
}

Recorder::~Recorder() {
    std::fclose(out_);
}

void Recorder::write(const std::string& line) {
    std::fputs(line.c_str(), out_);
    std::fputc('\n', out_);
}

void Recorder::sample(const std::string& path, const Sample& s) {
    write(nlohmann::json{{"sample", to_json(s)}, {"path", path}}.dump());
}

void Recorder::result(const ActionResult& r, TimePoint at) {
    write(nlohmann::json{{"result", to_json(r)}, {"at", to_usec(at)}}.dump());
}

void Recorder::set_mode(Mode mode, const std::string& reason, TimePoint at) {
    write(nlohmann::json{{"set_mode", to_string(mode)}, {"reason", reason}, {"at", to_usec(at)}}
              .dump());
}

void Recorder::maintenance(Duration length, const std::string& reason, TimePoint at) {
    write(nlohmann::json{{"maintenance", length.count()}, {"reason", reason}, {"at", to_usec(at)}}
              .dump());
}

void Recorder::flush() {
    std::fflush(out_);
}

}  // namespace iohealth
