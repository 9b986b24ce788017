// D-Bus read latency of iohealthd with many paths while it ticks (DESIGN target: status p99
// <= 5 ms with 64 paths). Sets up N loop devices over sparse files, a system-like private
// dbus-daemon with the shipped policy, and the real iohealthd (--no-bpf, one [path] per
// device); then, back to back for --seconds, times from a client connection:
//   getall: Properties.GetAll on one path object (round robin over the paths);
//   status: what `iohealthctl status` asks: Manager GetAll + ObjectManager GetManagedObjects.
// Each is timed twice: "raw", the round trip through dbus-daemon and iohealthd with the reply
// left undecoded (plain sd-bus: what the daemon and the bus cost), and "decoded", the same call
// through sdbus-c++ with the reply unpacked into maps of Variants, as iohealthctl does (the
// client's own decoding is then part of the figure). Prints p50/p99/max per kind; the target
// applies to the raw figures. Root only (loop devices, the bus name).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-bus.h>
#include <CLI/CLI.hpp>

#include "dbus/bus_names.h"
#include "integration/loop_device.h"
#include "integration/system_bus.h"

namespace {

using Clock = std::chrono::steady_clock;
using iohealth::kBusName;

struct Stats {
    std::vector<double> usec;
    double percentile(double q) {
        std::sort(usec.begin(), usec.end());
        if (usec.empty()) return 0;
        return usec[std::min(usec.size() - 1, static_cast<std::size_t>(q * double(usec.size())))];
    }
    std::string line(const char* name) {
        return fmt::format("{:<7} n={:<7} p50={:.3f} ms  p99={:.3f} ms  max={:.3f} ms", name,
                           usec.size(), percentile(0.50) / 1000, percentile(0.99) / 1000,
                           percentile(1.0) / 1000);
    }
};

template <typename F>
double timed_usec(F&& f) {
    const auto start = Clock::now();
    f();
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"iohealthd D-Bus latency with many paths while the daemon ticks"};
    int paths = 64;
    double seconds = 10;
    std::string tick = "1s";
    app.add_option("--paths", paths, "loop devices / [path] sections")->capture_default_str();
    app.add_option("--seconds", seconds, "measuring time")->capture_default_str();
    app.add_option("--tick", tick, "the daemon's tick")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (geteuid() != 0) {
        std::fprintf(stderr, "dbus_latency: needs root (loop devices, the bus name)\n");
        return 77;
    }

    iohealth::testing::SystemLikeBus bus;
    if (!bus.ok()) {
        std::fprintf(stderr, "dbus_latency: dbus-daemon did not start\n");
        return 1;
    }
    const auto work = bus.dir() / "work";
    std::filesystem::create_directory(work);
    std::vector<std::unique_ptr<iohealth::testing::LoopDevice>> devices;
    std::string config = fmt::format("[daemon]\ndiscover = no\ntick = {}\n", tick);
    for (int i = 0; i < paths; ++i) {
        const std::string file = (work / fmt::format("disk{}.img", i)).string();
        iohealth::testing::make_sparse_file(file, 16 << 20);
        devices.push_back(std::make_unique<iohealth::testing::LoopDevice>(file));
        config += fmt::format("[path disk{}]\ndevice = {}\n", i, devices.back()->path());
    }
    std::ofstream(work / "iohealthd.conf") << config;
    iohealth::testing::Child daemon({IOHEALTHD, "-c", (work / "iohealthd.conf").string(),
                                     "--no-bpf", "--bus-address", bus.address()},
                                    {}, -1, (work / "iohealthd.log").string());

    auto connection = sdbus::createSessionBusConnectionWithAddress(bus.address());
    if (!iohealth::testing::wait_for_name(*connection, kBusName)) {
        std::fprintf(stderr, "dbus_latency: iohealthd did not take its name; its log: %s\n",
                     (work / "iohealthd.log").c_str());
        return 1;
    }
    auto manager = sdbus::createProxy(*connection, kBusName, iohealth::kManagerPath);
    std::vector<std::unique_ptr<sdbus::IProxy>> objects;
    for (int i = 0; i < paths; ++i)
        objects.push_back(sdbus::createProxy(*connection, kBusName,
                                             iohealth::path_object(fmt::format("disk{}", i))));
    // Every path published and sampled before measuring.
    std::this_thread::sleep_for(std::chrono::seconds(2));

    sd_bus* raw = nullptr;
    if (sd_bus_new(&raw) < 0 || sd_bus_set_address(raw, bus.address().c_str()) < 0 ||
        sd_bus_set_bus_client(raw, 1) < 0 || sd_bus_start(raw) < 0) {
        std::fprintf(stderr, "dbus_latency: cannot connect to the private bus\n");
        return 1;
    }
    std::vector<std::string> object_paths;
    for (int i = 0; i < paths; ++i)
        object_paths.push_back(iohealth::path_object(fmt::format("disk{}", i)));
    // One call, reply received (and checked for an error) but not decoded.
    const auto raw_call = [&](const char* path, const char* interface, const char* member,
                              const char* arg) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message* reply = nullptr;
        const int r =
            arg ? sd_bus_call_method(raw, kBusName, path, interface, member, &error, &reply, "s",
                                     arg)
                : sd_bus_call_method(raw, kBusName, path, interface, member, &error, &reply, "");
        if (r < 0) std::fprintf(stderr, "dbus_latency: %s failed: %s\n", member, error.message);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
    };

    Stats getall, status, raw_getall, raw_status;
    using Props = std::map<std::string, sdbus::Variant>;
    using Objects = std::map<sdbus::ObjectPath, std::map<std::string, Props>>;
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    std::size_t next = 0, published = 0;
    while (Clock::now() < end) {
        Props props;
        getall.usec.push_back(timed_usec([&] {
            objects[next]
                ->callMethod("GetAll")
                .onInterface("org.freedesktop.DBus.Properties")
                .withArguments(std::string(iohealth::kPathInterface))
                .storeResultsTo(props);
        }));
        raw_getall.usec.push_back(timed_usec([&] {
            raw_call(object_paths[next].c_str(), "org.freedesktop.DBus.Properties", "GetAll",
                     iohealth::kPathInterface);
        }));
        raw_status.usec.push_back(timed_usec([&] {
            raw_call(iohealth::kManagerPath, "org.freedesktop.DBus.Properties", "GetAll",
                     iohealth::kManagerInterface);
            raw_call(iohealth::kManagerPath, "org.freedesktop.DBus.ObjectManager",
                     "GetManagedObjects", nullptr);
        }));
        next = (next + 1) % objects.size();
        Objects all;
        status.usec.push_back(timed_usec([&] {
            Props m;
            manager->callMethod("GetAll")
                .onInterface("org.freedesktop.DBus.Properties")
                .withArguments(std::string(iohealth::kManagerInterface))
                .storeResultsTo(m);
            manager->callMethod("GetManagedObjects")
                .onInterface("org.freedesktop.DBus.ObjectManager")
                .storeResultsTo(all);
        }));
        published = all.size();
    }
    fmt::print("iohealthd with {} paths ({} published), tick {}, {:.0f} s of back-to-back calls\n",
               paths, published, tick, seconds);
    fmt::print("raw (daemon + bus):\n  {}\n  {}\n", raw_getall.line("getall"),
               raw_status.line("status"));
    fmt::print("decoded by sdbus-c++ (as iohealthctl):\n  {}\n  {}\n", getall.line("getall"),
               status.line("status"));
    sd_bus_flush_close_unref(raw);
    const bool ok = raw_status.percentile(0.99) <= 5000 && raw_getall.percentile(0.99) <= 5000;
    fmt::print("target p99 <= 5 ms: {}\n", ok ? "met" : "MISSED");
    return ok ? 0 : 1;
}
