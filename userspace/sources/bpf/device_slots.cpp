#include "sources/bpf/device_slots.h"

#include <linux/types.h>
// clang-format off: the shared BPF header needs the __u* types first.
#include "iohealth.h"
// clang-format on

namespace iohealth {

static_assert(DeviceSlots::kSlots == IOH_MAX_DEVS && (1u << IOH_DEV_SLOT_BITS) == IOH_MAX_DEVS);
static_assert(DeviceSlots::kGone == IOH_DEV_GONE);

std::optional<std::uint32_t> DeviceSlots::find(std::uint32_t dev) const {
    for (std::uint32_t p = 0; p < IOH_DEV_PROBES; ++p) {
        const std::uint32_t k = ioh_dev_slot(dev, p);
        if (table_[k] == dev) return k;
        if (table_[k] == kFree) return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> DeviceSlots::place(std::uint32_t dev) {
    if (const auto k = find(dev)) return k;
    for (std::uint32_t p = 0; p < IOH_DEV_PROBES; ++p) {
        const std::uint32_t k = ioh_dev_slot(dev, p);
        if (table_[k] == kFree || table_[k] == kGone) {
            table_[k] = dev;
            return k;
        }
    }
    return std::nullopt;
}

void DeviceSlots::remove(std::uint32_t slot) {
    if (slot < kSlots && table_[slot] != kFree) table_[slot] = kGone;
}

}  // namespace iohealth
