#pragma once
// JSON forms of the evidence and the policy, for recordings (and later D-Bus Explain).
// Times are integer microseconds; absent optionals are null.
#include <nlohmann/json.hpp>

#include "core/evidence.h"
#include "core/executor.h"
#include "core/policy.h"

namespace iohealth {

nlohmann::json to_json(const Sample& s);
Sample sample_from_json(const nlohmann::json& j);

nlohmann::json to_json(const PathConfig& p);
PathConfig path_from_json(const nlohmann::json& j);

nlohmann::json to_json(const ActionResult& r);
ActionResult result_from_json(const nlohmann::json& j);

}  // namespace iohealth
