#include "ctl/client.h"

#include <systemd/sd-bus.h>

#include <cstring>

#include <fmt/format.h>

#include "dbus/bus_names.h"
#include "dbus/errors.h"

namespace iohealth::ctl {
namespace {
using nlohmann::json;

json variant_json(const sdbus::Variant& v) {
    if (v.containsValueOfType<std::string>()) return v.get<std::string>();
    if (v.containsValueOfType<std::uint64_t>()) return v.get<std::uint64_t>();
    if (v.containsValueOfType<std::uint32_t>()) return v.get<std::uint32_t>();
    if (v.containsValueOfType<std::int32_t>()) return v.get<std::int32_t>();
    if (v.containsValueOfType<bool>()) return v.get<bool>();
    using Vms = std::vector<sdbus::Struct<std::string, std::string>>;  // Path.Vms, a(ss)
    if (v.containsValueOfType<Vms>()) {
        json out = json::array();
        for (const auto& vm : v.get<Vms>())
            out.push_back({{"name", vm.get<0>()}, {"state", vm.get<1>()}});
        return out;
    }
    return fmt::format("<{}>", v.peekValueType());
}

// One path object: the generated Path proxy for its properties.
class PathProxy final
    : public sdbus::ProxyInterfaces<org::iohealth::IoHealth1::Path_proxy, sdbus::Properties_proxy> {
  public:
    PathProxy(sdbus::IConnection& connection, const std::string& object)
        : ProxyInterfaces(connection, kBusName, object) {
        registerProxy();
    }
    ~PathProxy() { unregisterProxy(); }

  private:
    void onPropertiesChanged(const std::string&, const std::map<std::string, sdbus::Variant>&,
                             const std::vector<std::string>&) override {}
};

// sdbus-c++ 1.2 leaks its sd_bus when connecting to an address fails; trying the address with
// plain sd-bus first turns that failure into a clean error (and keeps LeakSanitizer quiet).
std::string try_address(const std::string& address) {
    sd_bus* bus = nullptr;
    int r = sd_bus_new(&bus);
    if (r >= 0) r = sd_bus_set_address(bus, address.c_str());
    if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
    if (r >= 0) r = sd_bus_start(bus);
    sd_bus_flush_close_unref(bus);
    return r < 0 ? fmt::format("Failed to open bus ({})", std::strerror(-r)) : "";
}

bool not_running(const std::string& name) {
    return name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
           name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
           name == "org.freedesktop.DBus.Error.NoReply";
}

}  // namespace

std::string snake_case(const std::string& property) {
    std::string out;
    for (std::size_t i = 0; i < property.size(); ++i) {
        const char c = property[i];
        // "USec" is one word, as in systemd's names.
        if (property.compare(i, 4, "USec") == 0) {
            out += "_usec";
            i += 3;
            continue;
        }
        if (std::isupper(static_cast<unsigned char>(c)) && i > 0) out += '_';
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

json properties_json(const std::map<std::string, sdbus::Variant>& properties) {
    json out = json::object();
    for (const auto& [name, value] : properties) out[snake_case(name)] = variant_json(value);
    return out;
}

Failure bus_failure(const std::string& what, const sdbus::Error& e, const std::string& bus) {
    const std::string& name = e.getName();
    if (not_running(name))
        return Failure(kExitNotRunning,
                       fmt::format("iohealthd is not running ({} not on {})", kBusName, bus));
    if (name == "org.freedesktop.DBus.Error.AccessDenied" ||
        name == error_name(BusError::kAccessDenied))
        return Failure(
            kExitAccessDenied,
            fmt::format("Could not {}: permission denied, this needs root or the daemon's "
                        "admin_group ({})",
                        what, e.getMessage()));
    return Failure(kExitFailed, fmt::format("Could not {}: {} ({})", what, e.getMessage(), name));
}

ManagerProxy::ManagerProxy(sdbus::IConnection& connection)
    : ProxyInterfaces(connection, kBusName, kManagerPath) {
    registerProxy();
}
ManagerProxy::~ManagerProxy() {
    unregisterProxy();
}

void ManagerProxy::listen(Listener listener) {
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
}

// sdbus-c++ 1.2 aborts on an exception out of a signal callback: none leaves here.
void ManagerProxy::deliver(const Signal& signal) {
    std::lock_guard lock(mutex_);
    if (!listener_) return;
    try {
        listener_(signal);
    } catch (const std::exception& e) {
        fmt::print(stderr, "iohealthctl: {}\n", e.what());
    }
}

void ManagerProxy::onVerdictChanged(const std::string& path, const std::string& old_verdict,
                                    const std::string& verdict, const std::string& reason) {
    deliver(VerdictChangedSignal{path, old_verdict, verdict, reason});
}
void ManagerProxy::onEscalationStarted(const std::string& path, const std::string& reason) {
    deliver(EscalationStartedSignal{path, reason});
}
void ManagerProxy::onStepStarted(const std::string& path, const uint64_t& id, const int32_t& step,
                                 const std::string& action, const bool& dry_run) {
    deliver(StepStartedSignal{path, id, step, action, dry_run});
}
void ManagerProxy::onStepFinished(const std::string& path, const uint64_t& id, const int32_t& step,
                                  const std::string& action, const bool& success,
                                  const std::string& detail) {
    deliver(StepFinishedSignal{path, id, step, action, success, detail});
}
void ManagerProxy::onEscalationAverted(const std::string& path, const std::string& reason) {
    deliver(EscalationAvertedSignal{path, reason});
}
void ManagerProxy::onPropertiesChanged(const std::string& interface,
                                       const std::map<std::string, sdbus::Variant>& changed,
                                       const std::vector<std::string>&) {
    if (interface != kManagerInterface) return;
    deliver(ManagerChangedSignal{properties_json(changed)});
}
void ManagerProxy::onInterfacesAdded(
    const sdbus::ObjectPath& object,
    const std::map<std::string, std::map<std::string, sdbus::Variant>>&) {
    deliver(PathAddedSignal{path_name(object)});
}
void ManagerProxy::onInterfacesRemoved(const sdbus::ObjectPath& object,
                                       const std::vector<std::string>&) {
    deliver(PathRemovedSignal{path_name(object)});
}

json signal_json(const Signal& signal) {
    struct Visit {
        json operator()(const VerdictChangedSignal& s) const {
            return {{"signal", "VerdictChanged"},
                    {"path", s.path},
                    {"old_verdict", s.old_verdict},
                    {"verdict", s.verdict},
                    {"reason", s.reason}};
        }
        json operator()(const EscalationStartedSignal& s) const {
            return {{"signal", "EscalationStarted"}, {"path", s.path}, {"reason", s.reason}};
        }
        json operator()(const StepStartedSignal& s) const {
            return {{"signal", "StepStarted"}, {"path", s.path},     {"id", s.id},
                    {"step", s.step},          {"action", s.action}, {"dry_run", s.dry_run}};
        }
        json operator()(const StepFinishedSignal& s) const {
            return {{"signal", "StepFinished"}, {"path", s.path},     {"id", s.id},
                    {"step", s.step},           {"action", s.action}, {"success", s.success},
                    {"detail", s.detail}};
        }
        json operator()(const EscalationAvertedSignal& s) const {
            return {{"signal", "EscalationAverted"}, {"path", s.path}, {"reason", s.reason}};
        }
        json operator()(const ManagerChangedSignal& s) const {
            return {{"signal", "ManagerChanged"}, {"properties", s.properties}};
        }
        json operator()(const PathAddedSignal& s) const {
            return {{"signal", "PathAdded"}, {"path", s.path}};
        }
        json operator()(const PathRemovedSignal& s) const {
            return {{"signal", "PathRemoved"}, {"path", s.path}};
        }
    };
    return std::visit(Visit{}, signal);
}

Client::Client(const std::string& bus_address)
    : bus_(bus_address.empty() ? "the system bus" : "the bus at " + bus_address) {
    if (!bus_address.empty()) {
        if (const auto error = try_address(bus_address); !error.empty())
            throw Failure(
                kExitNotRunning,
                fmt::format("iohealthd is not running (cannot connect to {}: {})", bus_, error));
    }
    try {
        connection_ = bus_address.empty()
                          ? sdbus::createSystemBusConnection()
                          : sdbus::createSessionBusConnectionWithAddress(bus_address);
    } catch (const sdbus::Error& e) {
        throw Failure(kExitNotRunning, fmt::format("iohealthd is not running (cannot connect to "
                                                   "{}: {})",
                                                   bus_, e.getMessage()));
    }
    bool owned = false;
    try {
        auto dbus =
            sdbus::createProxy(*connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
        dbus->callMethod("NameHasOwner")
            .onInterface("org.freedesktop.DBus")
            .withArguments(std::string(kBusName))
            .storeResultsTo(owned);
    } catch (const sdbus::Error& e) {
        throw Failure(kExitNotRunning,
                      fmt::format("Could not ask {} for {}: {}", bus_, kBusName, e.getMessage()));
    }
    if (!owned)
        throw Failure(kExitNotRunning,
                      fmt::format("iohealthd is not running ({} not on {})", kBusName, bus_));
    manager_ = std::make_unique<ManagerProxy>(*connection_);
}

json Client::manager_properties() {
    try {
        return properties_json(manager_->GetAll(kManagerInterface));
    } catch (const sdbus::Error& e) {
        throw bus_failure("read the daemon's properties", e, bus_);
    }
}

json Client::paths() {
    std::map<sdbus::ObjectPath, std::map<std::string, std::map<std::string, sdbus::Variant>>>
        objects;
    try {
        objects = manager_->GetManagedObjects();
    } catch (const sdbus::Error& e) {
        throw bus_failure("list the paths", e, bus_);
    }
    std::map<std::string, json> by_name;
    for (const auto& [object, interfaces] : objects) {
        const auto it = interfaces.find(kPathInterface);
        if (it == interfaces.end()) continue;
        json p = properties_json(it->second);
        p["object"] = std::string(object);
        const std::string name = p.value("name", path_name(object));
        by_name[name] = std::move(p);
    }
    json out = json::array();
    for (auto& [name, p] : by_name) out.push_back(std::move(p));
    return out;
}

json Client::path(const std::string& name) {
    try {
        const std::string object = manager_->GetPath(name);
        PathProxy proxy(*connection_, object);
        json p = properties_json(proxy.GetAll(kPathInterface));
        p["object"] = object;
        return p;
    } catch (const sdbus::Error& e) {
        throw bus_failure(fmt::format("read path '{}'", name), e, bus_);
    }
}

}  // namespace iohealth::ctl
