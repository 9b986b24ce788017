#pragma once
// The consistency rules between values: every broken rule is one ConfigError that names the
// key an operator can fix, at the line that set it.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "config/config.h"

namespace iohealth {

class Validator {
  public:
    // Errors with no line of their own are reported against `main_file`.
    Validator(std::string main_file, std::vector<ConfigError>& errors,
              std::vector<std::string>& warnings)
        : main_file_(std::move(main_file)), errors_(errors), warnings_(warnings) {}

    // One effective policy: [policy] (section "policy", kind nullopt: discovered disks) or a
    // path (section "path NAME"). `origins` holds every key of the policy; `tick_origin` is
    // where [daemon] tick came from.
    void check_policy(std::string_view section, std::optional<PathKind> kind,
                      const PathPolicy& policy, const OriginMap& origins,
                      const ValueOrigin& tick_origin, Mode mode);

    // [cloudstack] agent_properties: a directory is an error; a file that does not exist
    // (yet: the agent may be installed later) is a warning, iohealthd reads it per request.
    void check_agent_properties(const std::string& file, const OriginMap& origins);

  private:
    struct Scope;
    enum class Rule;
    void report(const Scope& scope, Rule rule, std::string_view subject, std::string_view other,
                std::string message, bool warning = false);

    std::string main_file_;
    std::vector<ConfigError>& errors_;
    std::vector<std::string>& warnings_;
    // A [policy] value that breaks a rule breaks it for every path too: say it once.
    std::set<std::tuple<std::string, int, std::string, std::string, int>> reported_;
};

}  // namespace iohealth
