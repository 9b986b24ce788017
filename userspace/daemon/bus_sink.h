#pragma once
// Events -> D-Bus signals: VerdictChanged, EscalationStarted, StepStarted, StepFinished (from
// step-succeeded / step-failed, with the real detail) and EscalationAverted. Other events
// reach the bus as property changes (mode) or not at all (journal only). Nothing is sent while
// the bus is away (the journal has every event).
#include "daemon/bus_link.h"
#include "journal/event_sink.h"

namespace iohealth {

class BusSink final : public EventSink {
  public:
    explicit BusSink(BusLink& bus) : bus_(bus) {}
    void emit(const Event& e) override;

  private:
    BusLink& bus_;
};

}  // namespace iohealth
