#pragma once
// What the loop does with the bus's commands (daemon/control.h): mode changes, RequestFence
// (a single action, or the heartbeat-timeout host ladder) and its results, Reload.
#include <cstdint>
#include <functional>
#include <map>

#include "config/config.h"
#include "core/executor.h"
#include "daemon/control.h"
#include "daemon/engine.h"
#include "journal/event_sink.h"

namespace iohealth {

class CommandHandler {
  public:
    // `apply_paths` takes a reloaded configuration's paths and says how many there are.
    using ApplyPaths = std::function<std::size_t(const DaemonConfig&)>;
    CommandHandler(DaemonConfig& config, Engine& engine, EventSink& sink, Executor& executor,
                   DaemonControl& control, bool recording, ApplyPaths apply_paths)
        : config_(config),
          engine_(engine),
          sink_(sink),
          executor_(executor),
          control_(control),
          recording_(recording),
          apply_paths_(std::move(apply_paths)) {}

    // Loop thread.
    void handle(Command& command, TimePoint now);

  private:
    void handle(SetModeCommand& c, TimePoint now);
    void handle(FenceCommand& c, TimePoint now);
    void handle(HeartbeatFenceCommand& c, TimePoint now);
    void handle(FenceResultCommand& c, TimePoint now);
    void handle(ReloadCommand& c, TimePoint now);

    DaemonConfig& config_;
    Engine& engine_;
    EventSink& sink_;
    Executor& executor_;
    DaemonControl& control_;
    const bool recording_;
    const ApplyPaths apply_paths_;
    std::map<std::uint64_t, ActionRequest> host_requests_;  // RequestFence in flight, by id
};

}  // namespace iohealth
