// Before the first include of sd-journal.h: otherwise every entry says CODE_FUNC=emit.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include "journal/journald_sink.h"

#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstring>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace iohealth {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string usec(Duration d) {
    return std::to_string(d.count());
}

void add(Fields& f, const Assessment& a) {
    f.emplace_back("VERDICT", std::string(to_string(a.verdict)));
    f.emplace_back("REASON", a.reason);
    f.emplace_back("COMPLETED", std::to_string(a.completed));
    f.emplace_back("ERRORS", std::to_string(a.errors));
    f.emplace_back("IN_FLIGHT", std::to_string(a.in_flight));
    f.emplace_back("P99_USEC", usec(a.p99));
    f.emplace_back("KERNEL_STALL_USEC", usec(a.kernel_stall));
    f.emplace_back("HEARTBEAT_STALL_USEC", usec(a.heartbeat_stall));
    f.emplace_back("HEARTBEAT_GAP_USEC", usec(a.heartbeat_gap));
    if (a.dead_at) f.emplace_back("DEAD_IN_USEC", usec(*a.dead_at - a.at));
}

// The IOHEALTH_* fields (without the prefix) of each payload, in a fixed order.
struct PayloadFields {
    Fields& f;
    void operator()(const VerdictChange& p) const {
        f.emplace_back("OLD_VERDICT", std::string(to_string(p.previous)));
        add(f, p.assessment);
    }
    void operator()(const VerdictWarning& p) const { add(f, p.assessment); }
    void operator()(const NearMissSeen& p) const {
        f.emplace_back("STALLED_USEC", usec(p.near_miss.stalled_for));
        f.emplace_back("DEAD_AFTER_USEC", usec(p.near_miss.dead_after));
        add(f, p.assessment);
    }
    void operator()(const StuckRequestSeen& p) const {
        if (!p.device.empty()) f.emplace_back("DEVICE", p.device);
        f.emplace_back("AGE_USEC", usec(p.request.age));
        if (p.request.direction)
            f.emplace_back("DIRECTION", std::string(to_string(*p.request.direction)));
        f.emplace_back("THRESHOLD_USEC", usec(p.request.threshold));
        add(f, p.assessment);
    }
    void operator()(const FenceDeclinedSeen& p) const {
        f.emplace_back("ID", std::to_string(p.id));
        f.emplace_back("POOL", p.pool);
        if (!p.device.empty()) f.emplace_back("DEVICE", p.device);
        f.emplace_back("DETAIL", p.detail);
        add(f, p.assessment);
    }
    void operator()(const LadderChange& p) const {
        if (p.action) {
            f.emplace_back("STEP", std::to_string(p.step));
            f.emplace_back("ACTION", std::string(to_string(*p.action)));
        }
        f.emplace_back("DRY_RUN", p.dry_run ? "1" : "0");
        if (p.detail) f.emplace_back("DETAIL", *p.detail);
        if (p.id) f.emplace_back("ID", std::to_string(*p.id));
    }
    void operator()(const ModeChange& p) const {
        f.emplace_back("MODE", mode_text(p.to));
        f.emplace_back("OLD_MODE", mode_text(p.from));
        f.emplace_back("DETAIL", p.reason);
    }
};

Fields iohealth_fields(const Event& e) {
    Fields f;
    std::visit(PayloadFields{f}, e.payload);
    if (e.vms) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& vm : e.vms->vms) list.push_back({{"name", vm.name}, {"state", vm.state}});
        f.emplace_back("VMS", list.dump());
        f.emplace_back("VMS_SCOPE", e.vms->host ? "host" : "path");
        f.emplace_back("VMS_KNOWN", e.vms->known);
    }
    return f;
}

}  // namespace

std::vector<std::string> journal_fields(const Event& e) {
    std::vector<std::string> f;
    f.push_back("MESSAGE_ID=" + std::string(message_id(e.type)));
    f.push_back("PRIORITY=" + std::to_string(e.priority));
    f.push_back("MESSAGE=" + (e.path.empty() ? e.message : e.path + ": " + e.message));
    f.push_back("SYSLOG_IDENTIFIER=iohealthd");
    f.push_back("DOCUMENTATION=man:iohealthd(8)");
    f.push_back("IOHEALTH_EVENT=" + std::string(to_string(e.type)));
    if (!e.path.empty()) f.push_back("IOHEALTH_PATH=" + e.path);
    for (const auto& [key, value] : iohealth_fields(e))
        f.push_back("IOHEALTH_" + key + "=" + value);
    return f;
}

void JournaldSink::emit(const Event& e) {
    const auto fields = journal_fields(e);
    std::vector<iovec> iov;
    iov.reserve(fields.size());
    for (const auto& s : fields)
        iov.push_back({const_cast<char*>(s.data()), s.size()});  // sendv does not write
    const int r = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    if (r < 0)
        spdlog::warn("Failed to send {} event to journald: {}, ignoring", to_string(e.type),
                     std::strerror(-r));
}

}  // namespace iohealth
