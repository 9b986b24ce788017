#include "actuators/router.h"

#include <fmt/format.h>

namespace iohealth {

ActionRouter::ActionRouter(std::unique_ptr<Executor> dry_run,
                           std::map<Action, std::unique_ptr<Executor>> real)
    : dry_run_(std::move(dry_run)), real_(std::move(real)) {}

void ActionRouter::execute(const ActionRequest& request, Done done) {
    if (request.dry_run) return dry_run_->execute(request, std::move(done));
    const auto it = real_.find(request.action);
    if (it == real_.end() || !it->second) {
        done({request.id, request.path, request.action, false,
              fmt::format("Failed to run '{}': no executor configured for it",
                          to_string(request.action))});
        return;
    }
    it->second->execute(request, std::move(done));
}

}  // namespace iohealth
