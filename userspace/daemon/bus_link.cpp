#include "daemon/bus_link.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <sdbus-c++/sdbus-c++.h>
#include <spdlog/spdlog.h>

#include "dbus/bus_names.h"
#include "dbus/service.h"

namespace iohealth {
namespace {

using namespace std::chrono;

// Output another thread queued is flushed within this long even if nothing else wakes us.
constexpr milliseconds kMaxPollWait{1000};

int make_eventfd() {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        throw std::runtime_error(fmt::format("Failed to create eventfd: {}", std::strerror(errno)));
    return fd;
}

std::string error_text(const sdbus::Error& e) {
    return fmt::format("{} ({})", e.getMessage(), e.getName());
}

}  // namespace

struct BusLink::Connection {
    std::unique_ptr<sdbus::IConnection> connection;
    std::unique_ptr<BusService> service;
    ~Connection() {
        service.reset();  // its objects first (their removal signals are not sent when closed)
        connection.reset();
    }
};

BusLink::BusLink(ControlHandler& handler, std::string version, AdminGroup admin)
    : handler_(handler),
      version_(std::move(version)),
      admin_(std::move(admin)),
      wake_fd_(make_eventfd()) {}

BusLink::~BusLink() {
    stop();
    {
        std::lock_guard lock(mutex_);
        current_.reset();
    }
    ::close(wake_fd_);
}

BusLink::Attempt BusLink::connect() {
    Attempt attempt;
    auto c = open(attempt);
    std::lock_guard lock(mutex_);
    current_ = std::move(c);
    return attempt;
}

std::unique_ptr<BusLink::Connection> BusLink::open(Attempt& attempt) {
    auto c = std::make_unique<Connection>();
    try {
        c->connection = sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& e) {
        attempt.error = error_text(e);
        return nullptr;
    }
    attempt.connected = true;
    try {
        c->service = std::make_unique<BusService>(*c->connection, handler_, version_, admin_);
        {
            std::lock_guard lock(mutex_);
            c->service->update(paths_);
            c->service->set_manager(manager_);
        }
        c->connection->requestName(kBusName);  // objects first, then the name
    } catch (const std::exception& e) {
        const auto* bus_error = dynamic_cast<const sdbus::Error*>(&e);
        attempt.error = bus_error ? error_text(*bus_error) : e.what();
        return nullptr;
    }
    attempt.published = true;
    return c;
}

void BusLink::start() {
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void BusLink::stop() {
    if (!thread_.joinable()) return;
    thread_.request_stop();
    wake();
    thread_.join();
}

void BusLink::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

bool BusLink::sleep(milliseconds wait, std::stop_token stop) {
    const auto until = steady_clock::now() + wait;
    while (!stop.stop_requested()) {
        const auto left = ceil<milliseconds>(until - steady_clock::now());
        if (left <= milliseconds{0}) return true;
        pollfd pfd{wake_fd_, POLLIN, 0};
        if (::poll(&pfd, 1, int(left.count())) > 0) {
            std::uint64_t count = 0;
            [[maybe_unused]] const auto n = ::read(wake_fd_, &count, sizeof count);
        }
    }
    return false;
}

void BusLink::run(std::stop_token stop) {
    milliseconds backoff = kFirstRetry;
    int attempts = 0;
    steady_clock::time_point lost_at = steady_clock::now();
    std::string last_error;
    while (!stop.stop_requested()) {
        sdbus::IConnection* connection = nullptr;
        {
            std::lock_guard lock(mutex_);
            if (current_) connection = current_->connection.get();
        }
        if (!connection) {
            if (!sleep(backoff, stop)) return;
            Attempt attempt;
            auto c = open(attempt);
            ++attempts;
            if (!c) {
                // Each new reason once; the same one again only at debug level.
                if (attempt.error != last_error)
                    spdlog::warn(
                        "Bus: reconnect attempt {} failed: {}; retrying every {} s at most",
                        attempts, attempt.error, duration<double>(kMaxRetry).count());
                else
                    spdlog::debug("Bus: reconnect attempt {} failed: {}", attempts, attempt.error);
                last_error = attempt.error;
                backoff = std::min(backoff * 2, kMaxRetry);
                continue;
            }
            spdlog::info("Bus: back on the bus as {} after {} attempt(s), {:.1f} s without it",
                         kBusName, attempts,
                         duration<double>(steady_clock::now() - lost_at).count());
            std::lock_guard lock(mutex_);
            current_ = std::move(c);
            failing_ = false;
            connection = current_->connection.get();
        }
        const std::string lost = serve(*connection, stop);
        if (lost.empty()) return;  // stopping
        spdlog::warn(
            "Bus: lost the connection ({}); monitoring and fencing go on, the D-Bus API is "
            "unavailable until it is back (reconnecting)",
            lost);
        std::unique_ptr<Connection> old;
        {
            std::lock_guard lock(mutex_);
            old = std::move(current_);
        }
        old.reset();  // outside the lock: nothing here waits on the daemon loop
        backoff = kFirstRetry;
        attempts = 0;
        last_error.clear();
        lost_at = steady_clock::now();
    }
}

std::string BusLink::serve(sdbus::IConnection& connection, std::stop_token stop) {
    try {
        while (!stop.stop_requested()) {
            while (connection.processPendingRequest()) {
                if (stop.stop_requested()) return "";
            }
            const auto pd = connection.getEventLoopPollData();
            int timeout = pd.getPollTimeout();
            if (timeout < 0 || timeout > int(kMaxPollWait.count()))
                timeout = int(kMaxPollWait.count());
            pollfd fds[2] = {{pd.fd, pd.events, 0}, {wake_fd_, POLLIN, 0}};
            if (::poll(fds, 2, timeout) < 0 && errno != EINTR)
                return fmt::format("poll: {}", std::strerror(errno));
            if (fds[1].revents & POLLIN) {
                std::uint64_t count = 0;
                [[maybe_unused]] const auto n = ::read(wake_fd_, &count, sizeof count);
            }
        }
    } catch (const sdbus::Error& e) {
        return error_text(e);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

void BusLink::update(const std::vector<PathStatus>& paths, const ManagerStatus& manager) {
    std::lock_guard lock(mutex_);
    paths_ = paths;
    manager_ = manager;
    if (!current_) return;
    try {
        current_->service->update(paths_);
        current_->service->set_manager(manager_);
    } catch (const std::exception& e) {
        if (!std::exchange(failing_, true))
            spdlog::warn("Bus: failed to publish the status: {}, ignoring", e.what());
    }
    wake();  // what it queued goes out now, not at the next wake-up
}

void BusLink::with_service(const char* what, const std::function<void(BusService&)>& send) {
    std::lock_guard lock(mutex_);
    if (!current_) return;
    try {
        send(*current_->service);
    } catch (const std::exception& e) {
        if (!std::exchange(failing_, true))
            spdlog::warn("Bus: failed to send {}: {}, ignoring", what, e.what());
    }
    wake();
}

}  // namespace iohealth
