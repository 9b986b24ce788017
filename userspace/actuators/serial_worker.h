#pragma once
// One thread that runs an executor's slow work (bus round trips, child processes) in order, so
// Executor::execute() returns at once. Tasks get a stop token: the destructor requests a stop
// and every bounded wait inside a task gives up early instead of holding daemon shutdown.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace iohealth {

class SerialWorker {
  public:
    using Task = std::function<void(std::stop_token)>;

    SerialWorker();
    ~SerialWorker();
    SerialWorker(const SerialWorker&) = delete;
    SerialWorker& operator=(const SerialWorker&) = delete;

    // Queued tasks still run after a stop was requested; they see the stop token set and
    // must report "cancelled" rather than act.
    void post(Task task);

  private:
    void run(std::stop_token stop);

    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::deque<Task> tasks_;
    std::jthread thread_;  // last: started after, and joined before, the members above die
};

}  // namespace iohealth
