#include "dbus/errors.h"

#include "core/enum_table.h"

namespace iohealth {
namespace {
constexpr EnumTable<BusError, 5> kErrors{{
    {BusError::kNoSuchPath, "org.iohealth.IoHealth1.Error.NoSuchPath"},
    {BusError::kInvalidArgument, "org.iohealth.IoHealth1.Error.InvalidArgument"},
    {BusError::kAccessDenied, "org.iohealth.IoHealth1.Error.AccessDenied"},
    {BusError::kFailed, "org.iohealth.IoHealth1.Error.Failed"},
    {BusError::kInternal, "org.iohealth.IoHealth1.Error.Internal"},
}};
}  // namespace

std::string_view error_name(BusError e) {
    return enum_name(kErrors, e);
}
std::optional<BusError> bus_error_from_name(std::string_view name) {
    return enum_value(kErrors, name);
}

}  // namespace iohealth
