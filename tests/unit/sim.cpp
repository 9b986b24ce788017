#include "sim.h"

#include <algorithm>

namespace iohealth::test {

std::vector<Event> SimRun::of_type(EventType t) const {
    std::vector<Event> out;
    for (const auto& e : events)
        if (e.type == t) out.push_back(e);
    return out;
}

std::optional<TimePoint> SimRun::first(Verdict v, TimePoint from) const {
    for (const auto& t : timeline)
        if (t.verdict == v && t.at >= from) return t.at;
    return std::nullopt;
}

int SimRun::changes_between(TimePoint from, TimePoint to) const {
    return static_cast<int>(std::count_if(timeline.begin(), timeline.end(), [&](const auto& t) {
        return t.at > from && t.at <= to;
    }));
}

PathPolicy base_policy() {
    PathPolicy p;  // the defaults in policy.h are the T = 10 s derivation
    p.ladder = {{Action::kLogOnly, 10s},
                {Action::kRestartAgent, 10s},
                {Action::kGracefulReboot, 40s},
                {Action::kReboot, 10s}};
    return p;
}

Simulation::Simulation(PathPolicy policy, Mode mode) : policy_(std::move(policy)), mode_(mode) {}

Sample Simulation::sample(Storage s, TimePoint now) {
    Sample out;
    out.at = now;
    KernelEvidence& k = out.kernel;
    k.available = true;
    const auto tick = policy_.timings.tick;
    // Heartbeat: one probe at a time, every probe_interval, never cancelled.
    bool probe_io = false;
    if (heartbeat) {
        if (!pending_since_ && now >= next_probe_) {
            pending_since_ = now - tick / 2;  // started mid-tick
            next_probe_ = now + policy_.timings.probe_interval;
        }
        if (pending_since_) {
            probe_io = true;
            const Duration latency = s == Storage::kContended ? base_latency * 100 : base_latency;
            const bool queued_done = s == Storage::kQueued && now - *pending_since_ >= 6s;
            if (queued_done) {
                last_success_ = now;
                last_latency_ = now - *pending_since_;
                last_failed_ = false;
                failing_since_.reset();
                pending_since_.reset();
            } else if (s == Storage::kHealthy || s == Storage::kIdle || s == Storage::kContended) {
                last_success_ = *pending_since_ + latency;
                last_latency_ = latency;
                last_failed_ = false;
                failing_since_.reset();
                pending_since_.reset();
            } else if (s == Storage::kFailing) {
                if (!failing_since_) failing_since_ = *pending_since_;
                last_failed_ = true;
                last_latency_ = base_latency;
                pending_since_.reset();
            }
        }
        out.heartbeat.state = pending_since_ ? ProbeState::kPending : ProbeState::kIdle;
        out.heartbeat.last_success = last_success_;
        out.heartbeat.pending_since = pending_since_;
        out.heartbeat.failing_since = failing_since_;
        out.heartbeat.last_failed = last_failed_;
        out.heartbeat.last_latency = last_latency_;
        if (last_failed_) out.heartbeat.last_error = "EIO";
    }
    switch (s) {
        case Storage::kHealthy:
            k.completed = k.issued = 100;
            k.latency.add(base_latency, 100);
            k.in_flight = 4;
            break;
        case Storage::kContended:
            // Latency x100, far fewer completions, but they keep flowing every tick.
            k.completed = k.issued = 10;
            k.latency.add(base_latency * 100, 10);
            k.in_flight = 32;
            break;
        case Storage::kQueued:
            // A queue served one request at a time, each taking 3 s.
            if ((now - TimePoint{}) % 3s == Duration{0}) {
                k.completed = k.issued = 1;
                k.latency.add(3s);
            }
            k.in_flight = 2;
            break;
        case Storage::kStalled:
            k.in_flight = 32;
            break;
        case Storage::kFailing:
            k.completed = k.issued = 50;
            k.errors.io = 50;
            k.latency.add(base_latency, 50);
            break;
        case Storage::kIdle:
            if (probe_io) {
                k.completed = k.issued = 1;
                k.latency.add(base_latency);
            }
            break;
    }
    if (facts) facts(now, out.facts);
    return out;
}

std::vector<Sample> Simulation::samples(const std::vector<Phase>& phases) {
    std::vector<Sample> out;
    for (const auto& phase : phases) {
        const TimePoint end = now_ + phase.length;
        while (now_ < end) {
            now_ += policy_.timings.tick;
            out.push_back(sample(phase.storage, now_));
        }
    }
    return out;
}

SimRun Simulation::run(const std::vector<Phase>& phases) {
    PathConfig config;
    config.name = "sim0";
    config.policy = policy_;
    PathMonitor monitor(config);
    SimRun run;
    Verdict last = Verdict::kHealthy;
    auto feed = [&](TickOutput out) {
        for (auto& e : out.events) run.events.push_back(std::move(e));
        for (const auto& r : out.requests) {
            run.requests.push_back(r);
            const bool fail =
                std::find(fail_actions.begin(), fail_actions.end(), r.action) != fail_actions.end();
            ActionResult result{r.id, r.path, r.action, !fail, fail ? "simulated failure" : "ok"};
            // Results arrive within the tick, as the dry-run executor's do.
            auto more = monitor.on_result(result, now_);
            for (auto& e : more.events) run.events.push_back(std::move(e));
        }
    };
    for (const auto& phase : phases) {
        const TimePoint end = now_ + phase.length;
        while (now_ < end) {
            now_ += policy_.timings.tick;
            if (on_tick) on_tick(now_, mode_);
            if (auto change = mode_.expire(now_)) run.events.push_back(event_for(*change, now_));
            feed(monitor.tick(sample(phase.storage, now_), mode_.effective()));
            run.assessments.push_back(monitor.assessment());
            if (monitor.assessment().verdict != last) {
                last = monitor.assessment().verdict;
                run.timeline.push_back({now_, last});
            }
        }
    }
    return run;
}

}  // namespace iohealth::test
