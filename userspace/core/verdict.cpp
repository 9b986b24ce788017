#include "core/verdict.h"

#include "core/enum_table.h"

namespace iohealth {
namespace {
constexpr EnumTable<Verdict, 6> kNames{{
    {Verdict::kHealthy, "HEALTHY"},
    {Verdict::kContended, "CONTENDED"},
    {Verdict::kDegraded, "DEGRADED"},
    {Verdict::kRecovering, "RECOVERING"},
    {Verdict::kStalled, "STALLED"},
    {Verdict::kDead, "DEAD"},
}};
}  // namespace

std::string_view to_string(Verdict v) {
    return enum_name(kNames, v);
}
std::optional<Verdict> verdict_from_string(std::string_view s) {
    return enum_value(kNames, s);
}

}  // namespace iohealth
