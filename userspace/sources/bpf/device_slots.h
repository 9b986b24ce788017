#pragma once
// Where each request-based disk lives in the probes' slot arrays (bpf/iohealth.h
// ioh_dev_slot): userspace places a device at the first free slot of its probe sequence, the
// probes walk the same sequence. A mirror of the kernel's rq_slot_dev; pure.
#include <array>
#include <cstdint>
#include <optional>

namespace iohealth {

class DeviceSlots {
  public:
    static constexpr std::uint32_t kFree = 0;            // ends every probe sequence through it
    static constexpr std::uint32_t kGone = 0xffffffffu;  // IOH_DEV_GONE: freed, does not
    static constexpr std::size_t kSlots = 256;           // IOH_MAX_DEVS
    using Table = std::array<std::uint32_t, kSlots>;

    // The slot `dev` (IOH_MKDEV, never 0) is found at by the probes.
    std::optional<std::uint32_t> find(std::uint32_t dev) const;
    // `dev`'s slot, placing it when it has none; none when its whole sequence is taken.
    std::optional<std::uint32_t> place(std::uint32_t dev);
    // The slot is free again; the sequences through it go on past it.
    void remove(std::uint32_t slot);
    const Table& table() const { return table_; }

  private:
    Table table_{};
};

}  // namespace iohealth
