#include "daemon/replay.h"

#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/engine.h"
#include "record/json.h"

namespace iohealth {
namespace {

// Recorded results are fed back in their place; nothing is executed again.
class NoExecutor final : public Executor {
  public:
    void execute(const ActionRequest&, Done) override {}
};

}  // namespace

std::string replay(const std::filesystem::path& file, EventSink& sink) {
    std::ifstream in(file);
    if (!in) return fmt::format("Failed to open recording '{}'", file.string());
    std::string line;
    int lineno = 0;
    try {
        if (!std::getline(in, line)) return fmt::format("{}: empty recording", file.string());
        ++lineno;
        const auto header = nlohmann::json::parse(line);
        if (header.value("format", "") != "iohealth-record")
            return fmt::format("{}:1: not an iohealth recording", file.string());
        if (header.at("version").get<int>() != kRecordVersion)
            return fmt::format("{}:1: recording version {} (this build reads {})", file.string(),
                               header.at("version").get<int>(), kRecordVersion);
        std::vector<PathConfig> paths;
        for (const auto& p : header.at("paths")) paths.push_back(path_from_json(p));
        const auto mode = mode_from_string(header.at("mode").get<std::string>());
        if (!mode) return fmt::format("{}:1: unknown mode", file.string());

        NoExecutor executor;
        Engine engine(paths, *mode, sink, executor);
        std::map<std::string, Sample> tick;
        TimePoint tick_at{};
        auto flush = [&] {
            if (!tick.empty()) engine.tick(tick_at, tick);
            tick.clear();
        };
        while (std::getline(in, line)) {
            ++lineno;
            if (line.empty()) continue;
            const auto j = nlohmann::json::parse(line);
            if (j.contains("sample")) {
                Sample s = sample_from_json(j.at("sample"));
                if (!tick.empty() && s.at != tick_at) flush();
                tick_at = s.at;
                tick[j.at("path").get<std::string>()] = std::move(s);
                continue;
            }
            flush();
            const TimePoint at = from_usec(j.at("at").get<std::int64_t>());
            if (j.contains("result")) {
                engine.apply_result(result_from_json(j.at("result")), at);
            } else if (j.contains("set_mode")) {
                const auto m = mode_from_string(j.at("set_mode").get<std::string>());
                if (!m) return fmt::format("{}:{}: unknown mode", file.string(), lineno);
                engine.set_mode(*m, j.at("reason").get<std::string>(), at);
            } else if (j.contains("maintenance")) {
                engine.maintenance(Duration{j.at("maintenance").get<std::int64_t>()},
                                   j.at("reason").get<std::string>(), at);
            } else {
                return fmt::format("{}:{}: unknown record", file.string(), lineno);
            }
        }
        flush();
    } catch (const std::exception& e) {
        return fmt::format("{}:{}: {}", file.string(), lineno, e.what());
    }
    return "";
}

}  // namespace iohealth
