#pragma once
#include <filesystem>
#include <string>

#include "journal/event_sink.h"

namespace iohealth {

// Runs a recording through the classifier and escalation exactly as the live daemon did:
// the recorded policy, mode commands and action results, nothing executed. Events go to
// `sink`. Returns an error text naming the file and line, or "" on success.
std::string replay(const std::filesystem::path& file, EventSink& sink);

}  // namespace iohealth
