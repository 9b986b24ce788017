#pragma once
// The reason line of an assessment: text rendered from the classifier's numbers, never an
// input to a decision. Changing a wording here changes no verdict.
#include <string>

#include "core/classifier.h"

namespace iohealth {

// One line, numbers not adjectives: "no completion for 25s with 32 in flight; ...".
std::string render_reason(const Assessment& a, const PathPolicy& policy);

}  // namespace iohealth
