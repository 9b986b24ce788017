#include "core/rate_limit.h"

namespace iohealth {

bool RateLimit::allow(TimePoint now, std::uint64_t& suppressed) {
    if (!window_start_ || now - *window_start_ >= interval_) {
        window_start_ = now;
        in_window_ = 0;
    }
    if (in_window_ >= burst_) {
        ++suppressed_;
        return false;
    }
    ++in_window_;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
}

}  // namespace iohealth
