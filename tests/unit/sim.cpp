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

std::optional<TimePoint> Simulation::due_for(const Phase& phase, TimePoint start) {
    if (phase.storage != Storage::kServed) return std::nullopt;
    rng_ = rng_ * 6364136223846793005ULL + 1442695040888963407ULL;  // Knuth's MMIX LCG
    const auto span = (phase.latency_max - phase.latency_min).count() + 1;
    return start + phase.latency_min + Duration{static_cast<std::int64_t>((rng_ >> 33) % span)};
}

void Simulation::begin(const Phase& phase) {
    if (phase.storage != Storage::kServed && phase.storage != Storage::kHeld) {
        load_.clear();
        probe_.reset();
        return;
    }
    if (load_.empty())
        for (int i = 0; i < depth; ++i) load_.push_back({now_, due_for(phase, now_)});
    // A held request completes right after the hold ends, its latency the whole wait.
    if (phase.storage == Storage::kServed) {
        for (auto& r : load_)
            if (!r.due && !r.lost) r.due = now_ + base_latency;
        if (probe_ && !probe_->due) probe_->due = now_ + base_latency;
    }
}

void Simulation::serve(const Phase& phase, TimePoint now, Sample& out) {
    KernelEvidence& k = out.kernel;
    k.available = true;
    auto complete = [&](const Request& r) {
        ++k.completed;
        k.latency.add(*r.due - r.start);
        k.last_completion = std::max(k.last_completion.value_or(*r.due), *r.due);
    };
    for (auto& r : load_) {
        while (!r.lost && r.due && *r.due <= now) {
            complete(r);
            const TimePoint start = *r.due;
            r = {start, due_for(phase, start), false, !r.write};
            ++k.issued;
            if (lose_request_at && start >= *lose_request_at) {
                r.lost = true;
                r.due.reset();
                lose_request_at.reset();
            }
        }
    }
    if (heartbeat) {
        if (!probe_ && now >= next_probe_) {
            const TimePoint start = now - policy_.timings.tick / 2;  // started mid-tick
            probe_ = Request{start, due_for(phase, start)};
            next_probe_ = now + policy_.timings.probe_interval;
        }
        if (probe_ && probe_->due && *probe_->due <= now) {
            complete(*probe_);
            last_success_ = *probe_->due;
            last_latency_ = *probe_->due - probe_->start;
            probe_.reset();
        }
        out.heartbeat.state = probe_ ? ProbeState::kPending : ProbeState::kIdle;
        out.heartbeat.last_success = last_success_;
        if (probe_) out.heartbeat.pending_since = probe_->start;
        out.heartbeat.last_latency = last_latency_;
    }
    k.in_flight = static_cast<std::uint32_t>(load_.size() + (probe_ ? 1 : 0));
    const Request* oldest = probe_ ? &*probe_ : nullptr;
    for (const auto& r : load_)
        if (!oldest || r.start < oldest->start) oldest = &r;
    if (oldest) {
        k.oldest_in_flight_age = now - oldest->start;
        k.oldest_in_flight_direction = oldest->write ? IoDirection::kWrite : IoDirection::kRead;
    }
}

Sample Simulation::sample(const Phase& phase, TimePoint now) {
    Sample out;
    out.at = now;
    const Storage s = phase.storage;
    if (s == Storage::kServed || s == Storage::kHeld) {
        serve(phase, now, out);
        if (facts) facts(now, out.facts);
        return out;
    }
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
                failures_ = 0;
                pending_since_.reset();
            } else if (s == Storage::kHealthy || s == Storage::kIdle || s == Storage::kContended) {
                last_success_ = *pending_since_ + latency;
                last_latency_ = latency;
                last_failed_ = false;
                failing_since_.reset();
                failures_ = 0;
                pending_since_.reset();
            } else if (s == Storage::kFailing) {
                if (!failing_since_) failing_since_ = *pending_since_;
                last_failed_ = true;
                ++failures_;
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
        out.heartbeat.failures = failures_;
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
        case Storage::kServed:
        case Storage::kHeld:
            break;  // serve()
    }
    if (facts) facts(now, out.facts);
    return out;
}

std::vector<Sample> Simulation::samples(const std::vector<Phase>& phases) {
    std::vector<Sample> out;
    for (const auto& phase : phases) {
        begin(phase);
        const TimePoint end = now_ + phase.length;
        while (now_ < end) {
            now_ += policy_.timings.tick;
            out.push_back(sample(phase, now_));
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
        begin(phase);
        const TimePoint end = now_ + phase.length;
        while (now_ < end) {
            now_ += policy_.timings.tick;
            if (on_tick) on_tick(now_, mode_);
            if (auto change = mode_.expire(now_)) run.events.push_back(event_for(*change, now_));
            feed(monitor.tick(sample(phase, now_), mode_.effective()));
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
