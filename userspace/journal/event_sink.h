#pragma once
// Where events go. journald in production, a text stream for --foreground and replays, and
// memory in tests, all behind one interface so tests read exactly what was emitted.
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

#include "core/events.h"

namespace iohealth {

class EventSink {
  public:
    virtual ~EventSink() = default;
    virtual void emit(const Event& e) = 0;
};

// Every event to several sinks, in order.
class FanoutSink final : public EventSink {
  public:
    void add(std::shared_ptr<EventSink> sink) { sinks_.push_back(std::move(sink)); }
    void emit(const Event& e) override {
        for (auto& s : sinks_) s->emit(e);
    }

  private:
    std::vector<std::shared_ptr<EventSink>> sinks_;
};

class MemorySink final : public EventSink {
  public:
    void emit(const Event& e) override {
        std::lock_guard lock(mutex_);
        events_.push_back(e);
    }
    std::vector<Event> events() const {
        std::lock_guard lock(mutex_);
        return events_;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<Event> events_;
};

// format_event() lines, control characters escaped (core/bounded_text.h), flushed per event (a
// test or an operator may be tailing it).
class TextSink final : public EventSink {
  public:
    explicit TextSink(std::FILE* out) : out_(out) {}
    void emit(const Event& e) override;

  private:
    std::FILE* out_;
};

}  // namespace iohealth
