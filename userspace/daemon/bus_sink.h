#pragma once
// Events -> D-Bus signals: VerdictChanged, EscalationStarted, StepStarted, StepFinished (from
// step-succeeded / step-failed, with the real detail) and EscalationAverted. Other events
// reach the bus as property changes (mode) or not at all (journal only).
#include "dbus/service.h"
#include "journal/event_sink.h"

namespace iohealth {

class BusSink final : public EventSink {
  public:
    explicit BusSink(BusService& service) : service_(service) {}
    void emit(const Event& e) override;

  private:
    BusService& service_;
};

}  // namespace iohealth
