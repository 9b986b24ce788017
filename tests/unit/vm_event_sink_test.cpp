// Fence step events name the guests they affect and their last known state; everything else
// passes unchanged.
#include "daemon/vm_event_sink.h"

#include <libvirt/libvirt.h>

#include <gtest/gtest.h>

#include <algorithm>

#include <fmt/format.h>

#include "journal/journald_sink.h"

namespace iohealth {
namespace {

Event step(EventType type, std::string path, Action action, bool dry_run = false) {
    Event e{type, from_usec(1'000'000), 3, std::move(path), "step 2 restart-agent succeeded: ok",
            {}};
    e.fields.emplace_back("STEP", "2");
    e.fields.emplace_back("ACTION", std::string(to_string(action)));
    e.fields.emplace_back("DRY_RUN", dry_run ? "1" : "0");
    return e;
}

class VmEventSinkTest : public ::testing::Test {
  protected:
    VmEventSinkTest() {
        Vm a;
        a.name = "i-2-87-VM";
        a.state = VIR_DOMAIN_RUNNING;
        Vm b;
        b.name = "r-78-VM";
        b.state = VIR_DOMAIN_PAUSED;
        b.reason = VIR_DOMAIN_PAUSED_IOERROR;
        snapshot_.connected = true;
        snapshot_.vms = {a, b};
        track();
    }
    // What the daemon loop hands the sink each tick.
    void track() { sink_.set_vms(snapshot_, {{"nfs", {{"r-78-VM", "paused (I/O error)"}}}}); }
    Event only() {
        const auto events = out_.events();
        EXPECT_EQ(events.size(), 1u);
        return events.empty() ? Event{} : events.back();
    }

    VirtualClock clock_{from_usec(50'000'000)};
    MemorySink out_;
    VmSnapshot snapshot_;
    VmEventSink sink_{out_, clock_};
};

// The JSON IOHEALTH_VMS holds for the paused guest.
constexpr const char* kPausedVm = "{\"name\":\"r-78-VM\",\"state\":\"paused (I/O error)\"}";

TEST_F(VmEventSinkTest, AStepOnAPathNamesThePathsVms) {
    sink_.emit(step(EventType::kStepSucceeded, "nfs", Action::kRestartAgent));
    const Event e = only();
    EXPECT_EQ(*e.field("VMS"), fmt::format("[{}]", kPausedVm));
    EXPECT_EQ(*e.field("VMS_SCOPE"), "path");
    EXPECT_EQ(*e.field("VMS_KNOWN"), "live");
    EXPECT_EQ(e.message,
              "step 2 restart-agent succeeded: ok; VMs on this path (last known state): r-78-VM "
              "(paused (I/O error))");
    const auto journal = journal_fields(e);
    EXPECT_NE(
        std::find(journal.begin(), journal.end(), fmt::format("IOHEALTH_VMS=[{}]", kPausedVm)),
        journal.end());
}

TEST_F(VmEventSinkTest, ARebootEvenInDryRunNamesEveryVmOnTheHost) {
    sink_.emit(step(EventType::kStepStarted, "nfs", Action::kReboot, true));
    const Event e = only();
    EXPECT_EQ(*e.field("VMS_SCOPE"), "host");
    EXPECT_EQ(*e.field("VMS"),
              fmt::format("[{{\"name\":\"i-2-87-VM\",\"state\":\"running\"}},{}]", kPausedVm));
}

TEST_F(VmEventSinkTest, AHostRequestNamesEveryVm) {
    sink_.emit(step(EventType::kStepFailed, "", Action::kCustom));
    EXPECT_EQ(*only().field("VMS_SCOPE"), "host");
}

TEST_F(VmEventSinkTest, AStaleListSaysHowOldItIs) {
    snapshot_.connected = false;
    snapshot_.error = "cannot connect to qemu:///system";
    snapshot_.as_of = from_usec(38'000'000);
    track();
    sink_.emit(step(EventType::kStepSucceeded, "other", Action::kCustom));
    const Event e = only();
    EXPECT_EQ(*e.field("VMS"), "[]");
    EXPECT_EQ(*e.field("VMS_KNOWN"), "last known 12s ago (cannot connect to qemu:///system)");
    EXPECT_TRUE(e.message.ends_with(
        "; no VMs on this path, last known 12s ago (cannot connect to qemu:///system)"))
        << e.message;
}

TEST_F(VmEventSinkTest, AVerdictChangeListsThePathsVms) {
    sink_.emit({EventType::kVerdictChanged, {}, 2, "nfs", "STALLED -> DEAD: no progress", {}});
    sink_.emit({EventType::kVerdictChanged, {}, 2, "other", "STALLED -> DEAD: no progress", {}});
    const auto events = out_.events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(*events[0].field("VMS"), fmt::format("[{}]", kPausedVm));
    EXPECT_EQ(events[0].message,
              "STALLED -> DEAD: no progress; VMs on this path (last known state): r-78-VM "
              "(paused (I/O error))");
    EXPECT_EQ(*events[1].field("VMS"), "[]");
    EXPECT_EQ(events[1].message, "STALLED -> DEAD: no progress");  // nothing to add
}

TEST_F(VmEventSinkTest, LogOnlyStepsOtherEventsAndUntrackedHostsPassUnchanged) {
    const Event log_only = step(EventType::kStepStarted, "nfs", Action::kLogOnly);
    sink_.emit(log_only);
    sink_.emit({EventType::kEscalationStarted, {}, 3, "nfs", "ladder: log-only", {}});
    sink_.set_vms(std::nullopt, {});  // not tracked
    sink_.emit(step(EventType::kStepStarted, "nfs", Action::kReboot));
    for (const Event& e : out_.events()) EXPECT_EQ(e.field("VMS"), nullptr) << e.message;
    EXPECT_EQ(out_.events().size(), 3u);
}

}  // namespace
}  // namespace iohealth
