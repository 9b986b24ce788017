#pragma once
// The one Executor the escalation engine talks to: a dry-run request goes to the dry-run
// executor whatever its action; a real one goes to the executor registered for its action.
#include <map>
#include <memory>

#include "core/executor.h"

namespace iohealth {

class ActionRouter final : public Executor {
  public:
    ActionRouter(std::unique_ptr<Executor> dry_run,
                 std::map<Action, std::unique_ptr<Executor>> real);
    // A real request for an action with no executor fails with a clear detail.
    void execute(const ActionRequest& request, Done done) override;

  private:
    std::unique_ptr<Executor> dry_run_;
    std::map<Action, std::unique_ptr<Executor>> real_;
};

}  // namespace iohealth
