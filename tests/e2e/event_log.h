#pragma once
// Reads the daemon's --event-log: one format_event() line per event,
// "<CLOCK_MONOTONIC seconds> <event-type> [path=<name>] <message>", and waits for lines with
// a bound. Tests poll this file instead of sleeping for a verdict.
#include <time.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace iohealth::testing {

// CLOCK_MONOTONIC in seconds: the clock of the event lines' timestamps.
inline double monotonic_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct LoggedEvent {
    double at = 0;
    std::string type;  // "verdict-changed", "step-started", ...
    std::string path;  // empty for daemon-wide events
    std::string message;
    std::string line;

    // verdict-changed only: "HEALTHY -> STALLED: ..." gives "STALLED" (else "").
    std::string verdict() const {
        if (type != "verdict-changed") return "";
        const auto arrow = message.find(" -> ");
        const auto colon = message.find(':', arrow);
        if (arrow == std::string::npos || colon == std::string::npos) return "";
        return message.substr(arrow + 4, colon - arrow - 4);
    }
};

inline std::optional<LoggedEvent> parse_event_line(const std::string& line) {
    std::istringstream in(line);
    LoggedEvent e;
    e.line = line;
    if (!(in >> e.at >> e.type)) return std::nullopt;
    std::string rest;
    std::getline(in >> std::ws, rest);
    if (rest.starts_with("path=")) {
        const auto space = rest.find(' ');
        e.path = rest.substr(5, space == std::string::npos ? std::string::npos : space - 5);
        rest = space == std::string::npos ? "" : rest.substr(space + 1);
    }
    e.message = rest;
    return e;
}

class EventLog {
  public:
    explicit EventLog(std::string path) : path_(std::move(path)) {}
    const std::string& path() const { return path_; }

    // Every complete line written so far (a line still being written is left for later).
    std::vector<LoggedEvent> read() const {
        std::vector<LoggedEvent> out;
        std::ifstream in(path_);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::size_t start = 0;
        for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
            if (auto e = parse_event_line(text.substr(start, nl - start))) out.push_back(*e);
        return out;
    }

    // The first event matching `pred`, polling every 20 ms until `deadline` (monotonic
    // seconds); nullopt if none appeared by then. Also the way to watch that something
    // does NOT happen during a bounded phase.
    template <typename Pred>
    std::optional<LoggedEvent> wait_for(Pred pred, double deadline) const {
        for (;;) {
            for (const auto& e : read())
                if (pred(e)) return e;
            if (monotonic_seconds() > deadline) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

  private:
    std::string path_;
};

// Predicates for wait_for().
inline auto verdict_is(std::string verdict, double after = 0) {
    return [verdict = std::move(verdict), after](const LoggedEvent& e) {
        return e.at >= after && e.verdict() == verdict;
    };
}
inline auto type_is(std::string type, double after = 0) {
    return [type = std::move(type), after](const LoggedEvent& e) {
        return e.at >= after && e.type == type;
    };
}

// Reads a whole text file ("" when missing): the daemon's diagnostics.
inline std::string read_text(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Polls `path` until it contains `needle` or `deadline` (monotonic seconds) passes.
inline bool wait_for_text(const std::string& path, const std::string& needle, double deadline) {
    for (;;) {
        if (read_text(path).find(needle) != std::string::npos) return true;
        if (monotonic_seconds() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace iohealth::testing
