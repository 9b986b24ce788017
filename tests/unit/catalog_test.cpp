// The journald catalog (systemd/iohealthd.catalog) names only fields its event type really
// carries: each entry's @IOHEALTH_*@ against journal_fields() of that type's fullest event, as
// core/events.cpp builds it.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "core/events.h"
#include "journal/journald_sink.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;

// Every event each type can be, with every optional part present.
std::vector<Event> fullest_events() {
    std::vector<Event> out;
    Classification c;
    c.assessment.verdict = Verdict::kDead;
    c.assessment.dead_at = TimePoint{30s};
    c.verdict_changed = true;
    c.fence_imminent = true;
    c.near_miss = NearMiss{10s, 25s, "the replication link"};
    c.stuck_request = true;
    c.assessment.stuck_request = StuckRequest{30s, IoDirection::kWrite, 4, 25s};
    for (auto& e : events_for("vda", c, "/dev/vda")) out.push_back(std::move(e));
    ActionRequest request;
    request.id = 7;
    request.path = "vda";
    request.step = 2;
    request.action = Action::kReboot;
    for (const EventType t :
         {EventType::kEscalationStarted, EventType::kStepStarted, EventType::kStepSucceeded,
          EventType::kStepFailed, EventType::kStepRateLimited, EventType::kEscalationAverted,
          EventType::kFenceSuppressed, EventType::kEscalationExhausted})
        out.push_back(event_for("vda", {t, 2, Action::kReboot, true, "why", request}, {}, 7));
    for (const EventType t :
         {EventType::kStepStarted, EventType::kStepSucceeded, EventType::kStepFailed})
        out.push_back(request_event(t, request, {}, "why"));
    out.push_back(reboot_record(request, {}));
    ModeChange armed;
    armed.to.mode = Mode::kArmed;
    armed.reason = "why";
    out.push_back(event_for(armed, {}));
    FenceDeclinedSeen declined{
        7, "10.0.0.5:/export on /mnt/pool", "pool", "/mnt/pool", "why", c.assessment};
    out.push_back(fence_declined(declined, {}));
    return out;
}

// IOHEALTH_* field names (without the prefix) each event type can carry.
std::map<std::string, std::set<std::string>> carried() {
    std::map<std::string, std::set<std::string>> out;
    for (const Event& e : fullest_events())
        for (const auto& f : journal_fields(e))
            if (f.starts_with("IOHEALTH_"))
                out[std::string(message_id(e.type))].insert(f.substr(9, f.find('=') - 9));
    return out;
}

// The @IOHEALTH_*@ each catalog entry uses, by MESSAGE_ID.
std::map<std::string, std::set<std::string>> catalog_uses() {
    std::ifstream in(std::string(IOHEALTH_SOURCE_DIR) + "/systemd/iohealthd.catalog");
    EXPECT_TRUE(in) << "cannot read systemd/iohealthd.catalog";
    std::map<std::string, std::set<std::string>> out;
    const std::regex field("@IOHEALTH_([A-Z0-9_]+)@");
    std::string line, id;
    while (std::getline(in, line)) {
        if (line.starts_with("-- ")) {
            id = line.substr(3);
            out[id];
            continue;
        }
        for (std::sregex_iterator m(line.begin(), line.end(), field), end; m != end; ++m)
            out[id].insert((*m)[1]);
    }
    return out;
}

TEST(Catalog, EveryEventTypeHasAnEntryAndEveryEntryAType) {
    std::set<std::string> types;
    for (int t = 0; t < kEventTypes; ++t)
        types.insert(std::string(message_id(static_cast<EventType>(t))));
    std::set<std::string> entries;
    for (const auto& [id, fields] : catalog_uses()) entries.insert(id);
    EXPECT_EQ(entries, types);
}

TEST(Catalog, EntriesNameOnlyFieldsTheirEventCarries) {
    const auto has = carried();
    for (const auto& [id, fields] : catalog_uses()) {
        const auto it = has.find(id);
        ASSERT_NE(it, has.end()) << "no event built for catalog entry " << id;
        for (const auto& f : fields)
            EXPECT_TRUE(it->second.contains(f))
                << "catalog entry " << id << " names @IOHEALTH_" << f << "@, which is never sent";
    }
}

}  // namespace
}  // namespace iohealth
