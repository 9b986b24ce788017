#include "journal/event_sink.h"

namespace iohealth {

void TextSink::emit(const Event& e) {
    std::fprintf(out_, "%s\n", format_event(e).c_str());
    std::fflush(out_);
}

}  // namespace iohealth
