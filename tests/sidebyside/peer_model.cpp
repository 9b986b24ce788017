#include "sidebyside/peer_model.h"

#include <fmt/format.h>

namespace iohealth::peer {
namespace {

Duration scale(Duration d, double factor) {
    return Duration(static_cast<Duration::rep>(static_cast<double>(d.count()) * factor));
}

// `date +%s` at `t` for a host whose epoch second boundaries fall on the run's start.
std::int64_t epoch_seconds(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

PeerTimings PeerTimings::scaled(double factor) const {
    PeerTimings s = *this;
    s.update_frequency = scale(update_frequency, factor);
    s.write_timeout = scale(write_timeout, factor);
    s.retry_sleep = scale(retry_sleep, factor);
    s.fence_delay = scale(fence_delay, factor);
    return s;
}

PeerModel::PeerModel(PeerTimings timings, TimePoint start)
    : t_(timings), start_(start), wake_at_(start) {}

void PeerModel::note(TimePoint now, const std::string& text) {
    log_.push_back(
        fmt::format("{:.3f} {}", std::chrono::duration<double>(now - start_).count(), text));
}

PeerStep PeerModel::advance(TimePoint now) {
    switch (state_) {
        case State::kWriting:
            if (now >= wake_at_) fail_attempt(wake_at_, "timeout");
            return PeerStep::kNone;
        case State::kRoundSleep:
            if (now < wake_at_) return PeerStep::kNone;
            attempt_ = 1;
            break;
        case State::kRetrySleep:
            if (now < wake_at_) return PeerStep::kNone;
            if (attempt_ == t_.max_tries) {
                // executePoolHeartBeatCommand returned a failure for the round.
                attempt_ = 0;
                state_ = State::kRoundSleep;
                const TimePoint round_end = wake_at_;
                wake_at_ += t_.update_frequency;
                if (t_.reboot_on_timeout) {
                    // The agent runs -c and keeps its loop: with the stock script the host
                    // resets fence_delay later; a fence handed over and declined leaves it
                    // writing the next round.
                    note(round_end, "Write heartbeat failed; stopping cloudstack-agent. (-c)");
                    if (!fenced_at_) fenced_at_ = round_end;
                    ++fences_;
                    return PeerStep::kFence;
                }
                return advance(now);
            }
            ++attempt_;
            break;
    }
    state_ = State::kWriting;
    attempt_started_ = now;
    wake_at_ = now + t_.write_timeout;
    ++writes_started_;
    return PeerStep::kStartWrite;
}

std::optional<TimePoint> PeerModel::next_wakeup() const {
    return wake_at_;
}

void PeerModel::fail_attempt(TimePoint now, const std::string& reason) {
    note(now,
         fmt::format("Write heartbeat failed: {}; try: {} of {}.", reason, attempt_, t_.max_tries));
    state_ = State::kRetrySleep;
    wake_at_ = now + t_.retry_sleep;
}

void PeerModel::write_done(TimePoint now, bool ok, int write) {
    if (state_ != State::kWriting || write != writes_started_ || now >= wake_at_) return;
    if (!ok) {
        fail_attempt(now, "Input/output error");
        return;
    }
    last_success_ = now;
    // The file holds `date +%s` taken when the script started, before its write.
    last_stamp_ = attempt_started_;
    attempt_ = 0;
    state_ = State::kRoundSleep;
    wake_at_ = now + t_.update_frequency;
}

bool PeerModel::reader_says_dead(TimePoint now) const {
    // A neighbour that never saw a write reads ALIVE (the stock check fails open).
    if (!last_stamp_) return false;
    const auto interval = std::chrono::duration_cast<std::chrono::seconds>(t_.update_frequency);
    return epoch_seconds(now) - epoch_seconds(*last_stamp_) > interval.count();
}

std::optional<TimePoint> PeerModel::reader_dead_from() const {
    if (!last_stamp_) return std::nullopt;
    const auto interval = std::chrono::duration_cast<std::chrono::seconds>(t_.update_frequency);
    // The first whole second whose `date +%s` exceeds the written one by more than t.
    return TimePoint(std::chrono::seconds(epoch_seconds(*last_stamp_) + interval.count() + 1));
}

std::optional<TimePoint> PeerModel::reset_at() const {
    if (!fenced_at_) return std::nullopt;
    return *fenced_at_ + t_.fence_delay;
}

}  // namespace iohealth::peer
