#include "journal/event_sink.h"

#include "core/bounded_text.h"

namespace iohealth {

void TextSink::emit(const Event& e) {
    // One event, one line: a reason with a newline in it cannot forge a second event.
    std::fprintf(out_, "%s\n", escape_control(format_event(e)).c_str());
    std::fflush(out_);
}

}  // namespace iohealth
