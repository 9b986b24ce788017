#include "daemon/engine.h"

#include <algorithm>

#include "record/json.h"

namespace iohealth {

Engine::Engine(const std::vector<PathConfig>& paths, Mode mode, EventSink& sink, Executor& executor,
               Recorder* recorder)
    : mode_(mode), sink_(sink), executor_(executor), recorder_(recorder) {
    for (const auto& p : paths) monitors_.push_back(std::make_unique<PathMonitor>(p));
}

PathMonitor* Engine::find(const std::string& path) {
    return const_cast<PathMonitor*>(monitor(path));
}

const PathMonitor* Engine::monitor(const std::string& path) const {
    for (const auto& m : monitors_)
        if (m->config().name == path) return m.get();
    return nullptr;
}

void Engine::carry_episode(const std::string& path, TimePoint since,
                           std::optional<LadderPosition> ladder) {
    if (PathMonitor* m = find(path)) m->carry_episode(since, ladder);
}

void Engine::hold_reboots(const std::string& path, const std::string& why) {
    if (PathMonitor* m = find(path)) m->hold_reboots(why);
}

void Engine::release_reboots(const std::string& path, TimePoint now) {
    if (PathMonitor* m = find(path)) m->release_reboots(now);
}

bool Engine::reboots_held(const std::string& path) const {
    const PathMonitor* m = monitor(path);
    return m && m->escalation().reboots_held();
}

void Engine::publish(TickOutput out) {
    for (const auto& e : out.events) sink_.emit(e);
    for (const auto& r : out.requests)
        executor_.execute(r, [this](ActionResult result) {
            std::lock_guard lock(results_mutex_);
            results_.push_back(std::move(result));
        });
}

void Engine::tick(TimePoint now, const std::map<std::string, Sample>& samples) {
    if (auto change = mode_.expire(now)) sink_.emit(event_for(*change, now));
    for (auto& m : monitors_) {
        const auto it = samples.find(m->config().name);
        if (it == samples.end()) continue;
        if (recorder_) recorder_->sample(it->first, it->second);
        publish(m->tick(it->second, mode_.effective()));
    }
    for (auto& l : host_ladders_) publish(l->tick(mode_.effective(), now));
    drain_results(now);
    std::erase_if(host_ladders_, [](const auto& l) { return l->done(); });
    if (recorder_) recorder_->flush();
}

void Engine::drain_results(TimePoint now) {
    std::vector<ActionResult> ready;
    {
        std::lock_guard lock(results_mutex_);
        ready.swap(results_);
    }
    for (const auto& r : ready) apply_result(r, now);
}

void Engine::apply_result(const ActionResult& r, TimePoint now) {
    if (recorder_) recorder_->result(r, now);
    if (PathMonitor* m = find(r.path)) publish(m->on_result(r, now));
    for (auto& l : host_ladders_)
        if (l->name() == r.path) publish(l->on_result(r, now));
}

void Engine::start_host_ladder(std::unique_ptr<HostLadder> ladder, TimePoint now) {
    publish(ladder->tick(mode_.effective(), now));
    host_ladders_.push_back(std::move(ladder));
}

const HostLadder* Engine::running_host_ladder(std::string_view name_prefix) const {
    for (const auto& l : host_ladders_)
        if (!l->finished() && l->name().starts_with(name_prefix)) return l.get();
    return nullptr;
}

void Engine::reconfigure(const std::vector<PathConfig>& paths) {
    std::vector<std::unique_ptr<PathMonitor>> next;
    for (const auto& p : paths) {
        auto kept = std::find_if(monitors_.begin(), monitors_.end(), [&](const auto& m) {
            // The JSON form covers every setting, so equal JSON means an equal path.
            return m && m->config().name == p.name && to_json(m->config()) == to_json(p);
        });
        next.push_back(kept != monitors_.end() ? std::move(*kept)
                                               : std::make_unique<PathMonitor>(p));
    }
    monitors_ = std::move(next);
}

void Engine::set_mode(Mode mode, const std::string& reason, TimePoint now) {
    if (recorder_) recorder_->set_mode(mode, reason, now);
    const ModeChange change = mode_.set(mode, reason);
    // Asking for the mode already in force changes nothing and is not journaled as a change.
    if (change.from != change.to) sink_.emit(event_for(change, now));
}

void Engine::maintenance(Duration length, const std::string& reason, TimePoint now) {
    if (recorder_) recorder_->maintenance(length, reason, now);
    sink_.emit(event_for(mode_.enter_maintenance(now, length, reason), now));
}

}  // namespace iohealth
