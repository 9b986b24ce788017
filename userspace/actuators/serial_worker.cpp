#include "actuators/serial_worker.h"

namespace iohealth {

SerialWorker::SerialWorker() : thread_([this](std::stop_token stop) { run(stop); }) {}

SerialWorker::~SerialWorker() {
    thread_.request_stop();
    thread_.join();
}

void SerialWorker::post(Task task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
}

void SerialWorker::run(std::stop_token stop) {
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, stop, [this] { return !tasks_.empty(); });
            if (tasks_.empty()) return;  // stop requested and nothing left to drain
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task(stop);
    }
}

}  // namespace iohealth
