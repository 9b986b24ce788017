#include "cloudstack/fence_decision.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "core/enum_table.h"

namespace iohealth {
namespace {

constexpr EnumTable<FenceReply, 3> kReplies{{
    {FenceReply::kFencing, "fencing"},
    {FenceReply::kDeclined, "declined"},
    {FenceReply::kNotActing, "not-acting"},
}};

// "/mnt/pool/" and "/mnt//pool" name the mount "/mnt/pool".
std::string normal_mount(const std::string& p) {
    if (p.empty()) return p;
    std::string s = std::filesystem::path(p).lexically_normal().string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

bool about_pool(const HeartbeatPool& pool, const PathEvidence& p) {
    switch (p.kind) {
        case PathKind::kMount:
            return !pool.mount.empty() && normal_mount(p.target) == normal_mount(pool.mount);
        case PathKind::kDrbd:
            return std::find(pool.resources.begin(), pool.resources.end(), p.target) !=
                   pool.resources.end();
        case PathKind::kDevice:
            return false;
    }
    return false;
}

bool progressing(Verdict v) {
    return v != Verdict::kStalled && v != Verdict::kDead;
}

std::string evidence_text(const PathEvidence& p) {
    return fmt::format("path {} ({}) is {}: {}", p.name, p.target, to_string(p.assessment.verdict),
                       p.assessment.reason);
}

}  // namespace

std::string_view to_string(FenceReply r) {
    return enum_name(kReplies, r);
}

HeartbeatPool heartbeat_pool(const std::map<std::string, std::string>& details) {
    HeartbeatPool pool;
    const auto get = [&](const char* key) {
        const auto it = details.find(key);
        return it == details.end() ? std::string() : it->second;
    };
    pool.script = get("script");
    pool.server = get("server");
    pool.export_path = get("export");
    pool.mount = get("mount");
    std::istringstream resources(get("resource"));
    for (std::string r; resources >> r;) pool.resources.push_back(r);
    return pool;
}

std::string describe(const HeartbeatPool& pool) {
    std::string s;
    if (!pool.server.empty()) s = fmt::format("{}:{}", pool.server, pool.export_path);
    if (!pool.mount.empty()) s += fmt::format("{}{}", s.empty() ? "" : " on ", pool.mount);
    for (const auto& r : pool.resources)
        s += fmt::format("{}DRBD resource {}", s.empty() ? "" : ", ", r);
    if (s.empty()) s = "no pool named";
    if (!pool.script.empty()) s += fmt::format(" ({})", pool.script);
    return s;
}

HeartbeatFenceDecision decide_heartbeat_fence(const HeartbeatPool& pool,
                                              const std::vector<PathEvidence>& paths,
                                              const EffectiveMode& mode) {
    HeartbeatFenceDecision d;
    std::vector<const PathEvidence*> mine;
    for (const PathEvidence& p : paths)
        if (about_pool(pool, p)) mine.push_back(&p);
    const auto assessed = [](const PathEvidence* p) { return p->assessed; };
    const auto stuck = [](const PathEvidence* p) {
        return p->assessed && !progressing(p->assessment.verdict);
    };
    if (mine.empty()) {
        d.evidence = FenceCase::kNoPath;
        d.detail = fmt::format("no monitored path for {}: the agent's request is the evidence",
                               describe(pool));
    } else if (const auto it = std::find_if(mine.begin(), mine.end(), stuck); it != mine.end()) {
        d.evidence = FenceCase::kNoProgress;
        d.path = **it;
        d.detail = fmt::format("no progress: {}", evidence_text(**it));
    } else if (std::none_of(mine.begin(), mine.end(), assessed)) {
        d.evidence = FenceCase::kNoEvidence;
        d.path = *mine.front();
        d.detail = fmt::format(
            "no evidence yet for path {} ({}): the agent's request is the "
            "evidence",
            mine.front()->name, mine.front()->target);
    } else {
        d.evidence = FenceCase::kProgressing;
        const auto it = std::find_if(mine.begin(), mine.end(), assessed);
        d.path = **it;
        d.detail = fmt::format(
            "CloudStack asked to fence after its heartbeat writes timed out; the storage is slow "
            "but progressing: {}",
            evidence_text(**it));
    }
    d.reply = d.evidence == FenceCase::kProgressing ? FenceReply::kDeclined : FenceReply::kFencing;
    if (mode.mode != Mode::kArmed) {
        d.detail =
            fmt::format("{}: would be {}: {}", mode_text(mode), to_string(d.reply), d.detail);
        d.reply = FenceReply::kNotActing;
    }
    return d;
}

}  // namespace iohealth
