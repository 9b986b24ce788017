#include "dbus/service.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "core/bounded_text.h"
#include "dbus/bus_names.h"
#include "dbus/errors.h"
#include "dbus/iohealth_adaptor.h"

namespace iohealth {

HeartbeatFenceReply ControlHandler::request_heartbeat_fence(
    const std::string&, const std::map<std::string, std::string>&, const Caller&) {
    throw ControlError(BusError::kFailed, "This daemon does not run heartbeat-timeout ladders");
}

namespace {

using ManagerBase =
    sdbus::AdaptorInterfaces<org::iohealth::IoHealth1::Manager_adaptor, sdbus::Properties_adaptor,
                             sdbus::ObjectManager_adaptor>;
using PathBase = sdbus::AdaptorInterfaces<org::iohealth::IoHealth1::Path_adaptor,
                                          sdbus::Properties_adaptor, sdbus::ManagedObject_adaptor>;

sdbus::Error bus_error(BusError e, const std::string& message) {
    return sdbus::Error(std::string(error_name(e)), message);
}

// sdbus-c++ 1.2 catches only sdbus::Error around handlers and aborts on anything else
// (fixed in 1.5), so every handler and getter body runs through this.
template <typename F>
auto guarded(F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const sdbus::Error&) {
        throw;
    } catch (const ControlError& e) {
        throw bus_error(e.code(), e.what());
    } catch (const std::exception& e) {
        throw bus_error(BusError::kInternal, e.what());
    } catch (...) {
        throw bus_error(BusError::kInternal, "unknown exception");
    }
}

// The names, in XML order, of the properties that signal their changes and whose values differ.
std::vector<std::string> changed_properties(const PathStatus& a, const PathStatus& b) {
    std::vector<std::string> names;
    auto check = [&](bool differs, const char* name) {
        if (differs) names.emplace_back(name);
    };
    check(a.kind != b.kind, "Kind");
    check(a.target != b.target, "Target");
    check(a.verdict != b.verdict, "Verdict");
    check(a.reason != b.reason, "Reason");
    // The gauges (latencies, in flight, ages, errors) are EmitsChangedSignal=false in the XML.
    check(a.escalation_step != b.escalation_step, "EscalationStep");
    check(a.fence_by_usec != b.fence_by_usec, "FenceByUSec");
    check(a.vms != b.vms, "Vms");
    return names;
}

class PathObject final : public PathBase {
  public:
    PathObject(sdbus::IConnection& connection, const PathStatus& status)
        : PathBase(connection, path_object(status.name)), status_(status) {
        registerAdaptor();
        emitInterfacesAddedSignal({kPathInterface});
    }
    ~PathObject() {
        try {
            emitInterfacesRemovedSignal({kPathInterface});
        } catch (const sdbus::Error&) {
            // The connection is gone (the daemon reconnects): nobody is left to tell.
        }
        unregisterAdaptor();
    }

    // Stores the new values; returns the names of the properties that changed.
    std::vector<std::string> set(const PathStatus& status) {
        std::lock_guard lock(mutex_);
        auto names = changed_properties(status_, status);
        status_ = status;
        return names;
    }
    void announce(const std::vector<std::string>& names) {
        if (!names.empty()) emitPropertiesChangedSignal(kPathInterface, names);
    }
    PathStatus snapshot() const {
        std::lock_guard lock(mutex_);
        return status_;
    }

  private:
    template <typename T>
    T read(T PathStatus::*field) {
        return guarded([&] {
            std::lock_guard lock(mutex_);
            return status_.*field;
        });
    }
    std::string Name() override { return read(&PathStatus::name); }
    std::string Kind() override { return read(&PathStatus::kind); }
    std::string Target() override { return read(&PathStatus::target); }
    std::string Verdict() override { return read(&PathStatus::verdict); }
    std::string Reason() override { return read(&PathStatus::reason); }
    uint64_t LatencyP50USec() override { return read(&PathStatus::latency_p50_usec); }
    uint64_t LatencyP99USec() override { return read(&PathStatus::latency_p99_usec); }
    uint32_t InFlight() override { return read(&PathStatus::in_flight); }
    uint64_t OldestAgeUSec() override { return read(&PathStatus::oldest_age_usec); }
    uint64_t HeartbeatAgeUSec() override { return read(&PathStatus::heartbeat_age_usec); }
    uint64_t Errors() override { return read(&PathStatus::errors); }
    int32_t EscalationStep() override { return read(&PathStatus::escalation_step); }
    uint64_t FenceByUSec() override { return read(&PathStatus::fence_by_usec); }
    std::vector<sdbus::Struct<std::string, std::string>> Vms() override {
        std::vector<sdbus::Struct<std::string, std::string>> out;
        for (const VmStatus& vm : read(&PathStatus::vms)) out.emplace_back(vm.name, vm.state);
        return out;
    }

    mutable std::mutex mutex_;
    PathStatus status_;
};

// Reload replies still waiting for the daemon. They are answered from any thread, or dropped
// with the service (a reply must not outlive its connection); an answer after that, or one
// the bus cannot take, is dropped: it must not throw into the daemon's loop or a worker.
class PendingReplies {
  public:
    std::uint64_t add(sdbus::Result<>&& reply) {
        std::lock_guard lock(mutex_);
        replies_.emplace(++last_, std::move(reply));
        return last_;
    }
    void answer(std::uint64_t id, const std::string& error) {
        send(id, [&](sdbus::Result<>& r) {
            if (error.empty())
                r.returnResults();
            else
                r.returnError(bus_error(BusError::kFailed, error));
        });
    }
    void answer(std::uint64_t id, const sdbus::Error& error) {
        send(id, [&](sdbus::Result<>& r) { r.returnError(error); });
    }
    void drop() {
        std::lock_guard lock(mutex_);
        replies_.clear();
    }

  private:
    template <typename F>
    void send(std::uint64_t id, F&& reply) {
        std::lock_guard lock(mutex_);
        auto node = replies_.extract(id);
        if (node.empty()) return;
        try {
            reply(node.mapped());
        } catch (const std::exception&) {
            // The connection is gone; the caller sees the bus's own error.
        }
    }
    std::mutex mutex_;
    std::uint64_t last_ = 0;
    std::map<std::uint64_t, sdbus::Result<>> replies_;
};

}  // namespace

class BusService::Impl final : public ManagerBase {
  public:
    Impl(sdbus::IConnection& connection, ControlHandler& handler, std::string version,
         AdminGroup admin)
        : ManagerBase(connection, kManagerPath),
          connection_(connection),
          handler_(handler),
          version_(std::move(version)),
          admin_(std::move(admin)) {
        registerAdaptor();
    }
    ~Impl() {
        paths_.clear();  // children first: their InterfacesRemoved go out while we exist
        replies_->drop();
        unregisterAdaptor();
    }

    void update(const std::vector<PathStatus>& paths) {
        std::map<std::string, const PathStatus*> wanted;
        for (const auto& p : paths) wanted[p.name] = &p;

        std::vector<std::unique_ptr<PathObject>> gone;
        std::vector<std::pair<PathObject*, const PathStatus*>> kept;
        std::vector<const PathStatus*> added;
        {
            std::lock_guard lock(mutex_);
            for (auto it = paths_.begin(); it != paths_.end();) {
                const auto w = wanted.find(it->first);
                if (w == wanted.end()) {
                    gone.push_back(std::move(it->second));
                    it = paths_.erase(it);
                } else {
                    kept.emplace_back(it->second.get(), w->second);
                    ++it;
                }
            }
            for (const auto& [name, status] : wanted)
                if (!paths_.contains(name)) added.push_back(status);
        }
        // Bus calls outside our lock (see service.h); the objects in `kept` are only ever
        // destroyed by this thread.
        gone.clear();
        for (auto [object, status] : kept) object->announce(object->set(*status));
        for (const PathStatus* status : added) {
            auto object = std::make_unique<PathObject>(connection_, *status);
            std::lock_guard lock(mutex_);
            paths_[status->name] = std::move(object);
        }
    }

    void set_manager(const ManagerStatus& status) {
        std::vector<std::string> names;
        {
            std::lock_guard lock(mutex_);
            if (status.mode != manager_.mode) names.emplace_back("Mode");
            if (status.maintenance_until_usec != manager_.maintenance_until_usec)
                names.emplace_back("MaintenanceUntilUSec");
            if (status.mode_source != manager_.mode_source) names.emplace_back("ModeSource");
            if (status.libvirt_state != manager_.libvirt_state) names.emplace_back("LibvirtState");
            if (status.vms_updated_usec != manager_.vms_updated_usec)
                names.emplace_back("VmsUpdatedUSec");
            manager_ = status;
        }
        if (!names.empty()) emitPropertiesChangedSignal(kManagerInterface, names);
    }

  private:
    // ---- properties ----
    std::string Version() override {
        return guarded([&] { return version_; });
    }
    std::string Mode() override {
        return guarded([&] {
            std::lock_guard lock(mutex_);
            return manager_.mode;
        });
    }
    uint64_t MaintenanceUntilUSec() override {
        return guarded([&] {
            std::lock_guard lock(mutex_);
            return manager_.maintenance_until_usec;
        });
    }
    std::string ModeSource() override {
        return guarded([&] {
            std::lock_guard lock(mutex_);
            return manager_.mode_source;
        });
    }
    std::string LibvirtState() override {
        return guarded([&] {
            std::lock_guard lock(mutex_);
            return manager_.libvirt_state;
        });
    }
    uint64_t VmsUpdatedUSec() override {
        return guarded([&] {
            std::lock_guard lock(mutex_);
            return manager_.vms_updated_usec;
        });
    }

    // ---- queries: anyone ----
    std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>> ListPaths()
        override {
        return guarded([&] {
            std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>>
                out;
            std::lock_guard lock(mutex_);
            for (const auto& [name, object] : paths_) {
                const auto s = object->snapshot();
                out.emplace_back(s.name, s.kind, s.verdict,
                                 sdbus::ObjectPath(object->getObjectPath()));
            }
            return out;
        });
    }
    sdbus::ObjectPath GetPath(const std::string& name) override {
        return guarded([&] {
            require_path(name);
            return sdbus::ObjectPath(path_object(name));
        });
    }
    std::string Explain(const std::string& name) override {
        return guarded([&] {
            require_path(name);
            return handler_.explain(name, privileged(*getObject().getCurrentlyProcessedMessage()));
        });
    }
    std::vector<uint64_t> GetHistogram(const std::string& name) override {
        return guarded([&] {
            require_path(name);
            return handler_.histogram(name);
        });
    }

    // ---- changes: root or the admin group ----
    void SetMode(const std::string& mode, const uint64_t& timeout_usec,
                 const std::string& reason) override {
        guarded([&] {
            const Caller caller = authorize("SetMode");
            if (mode != "dry-run" && mode != "armed" && mode != "disarmed" && mode != "maintenance")
                throw bus_error(BusError::kInvalidArgument,
                                fmt::format("Unknown mode {} (expected dry-run, armed, "
                                            "disarmed or maintenance)",
                                            quote_input(mode)));
            if (timeout_usec != 0 && mode != "maintenance")
                throw bus_error(
                    BusError::kInvalidArgument,
                    fmt::format("A timeout applies to maintenance only, not to '{}'", mode));
            // The same limit as every duration in the configuration and iohealthctl's --for;
            // checked on the unsigned value, so 2^63 and above cannot wrap to a negative one.
            if (timeout_usec > std::uint64_t(kMaxDuration.count()))
                throw bus_error(
                    BusError::kInvalidArgument,
                    fmt::format("timeout_usec {} is beyond the limit of {}h ({} us)", timeout_usec,
                                std::chrono::floor<std::chrono::hours>(kMaxDuration).count(),
                                kMaxDuration.count()));
            require_reason(reason);
            handler_.set_mode({mode, Duration(std::int64_t(timeout_usec)), reason}, caller);
        });
    }
    uint64_t RequestFence(const std::string& action, const std::string& reason) override {
        return guarded([&] {
            const Caller caller = authorize("RequestFence");
            if (action == kHeartbeatTimeoutAction) {
                require_reason(reason);
                return handler_.request_heartbeat_fence(reason, {}, caller).id;
            }
            const Action a = require_action(action);
            require_reason(reason);
            return handler_.request_fence(a, reason, caller);
        });
    }
    std::tuple<uint64_t, std::string, std::string> RequestHeartbeatFence(
        const std::string& reason, const std::map<std::string, std::string>& pool) override {
        return guarded([&] {
            const Caller caller = authorize("RequestHeartbeatFence");
            require_reason(reason);
            require_pool(pool);
            const HeartbeatFenceReply r = handler_.request_heartbeat_fence(reason, pool, caller);
            return std::tuple<uint64_t, std::string, std::string>(r.id, r.reply, r.detail);
        });
    }
    std::string TestAction(const std::string& action) override {
        return guarded([&] {
            const Caller caller = authorize("TestAction");
            return handler_.test_action(require_action(action), caller);
        });
    }
    void Reload(sdbus::Result<>&& result) override {
        const std::uint64_t id = replies_->add(std::move(result));
        try {
            guarded([&] {
                handler_.reload(authorize("Reload"),
                                [replies = replies_, id](const std::string& error) {
                                    replies->answer(id, error);
                                });
            });
        } catch (const sdbus::Error& e) {
            replies_->answer(id, e);
        }
    }

    // ---- checks ----
    void require_path(const std::string& name) {
        std::lock_guard lock(mutex_);
        if (!paths_.contains(name))
            throw bus_error(BusError::kNoSuchPath,
                            fmt::format("No path {} is monitored", quote_input(name)));
    }
    static void require_reason(const std::string& reason) {
        if (reason.empty()) throw bus_error(BusError::kInvalidArgument, "A reason is required");
        if (reason.size() > kMaxReasonBytes)
            throw bus_error(BusError::kInvalidArgument,
                            fmt::format("A reason is at most {} bytes; this one has {}",
                                        kMaxReasonBytes, reason.size()));
    }
    // A pool names a few things (script, server, export, mount, resource): bounded like a
    // path name, so what reaches the journal and the reply stays small.
    static void require_pool(const std::map<std::string, std::string>& pool) {
        if (pool.size() > kMaxPoolEntries)
            throw bus_error(BusError::kInvalidArgument,
                            fmt::format("A pool has at most {} entries; this one has {}",
                                        kMaxPoolEntries, pool.size()));
        for (const auto& [key, value] : pool)
            if (key.size() > kMaxNameBytes || value.size() > kMaxPoolValueBytes)
                throw bus_error(
                    BusError::kInvalidArgument,
                    fmt::format("Pool entry {} is too long (keys up to {} bytes, values up to {})",
                                quote_input(key), kMaxNameBytes, kMaxPoolValueBytes));
    }
    static Action require_action(const std::string& action) {
        const auto a = action_from_string(action);
        if (!a)
            throw bus_error(BusError::kInvalidArgument,
                            fmt::format("Unknown action {} (expected log-only, restart-agent, "
                                        "graceful-reboot, reboot, custom; RequestFence also "
                                        "heartbeat-timeout)",
                                        quote_input(action)));
        return *a;
    }
    // The bus policy already keeps other callers away from these methods on the system bus;
    // this check holds where that policy is missing or wider (another bus, an edited policy
    // file). sd-bus gets the caller's pid and uid from dbus-daemon (GetConnectionCredentials,
    // a quick answer from the bus itself, unlike a wait on polkitd) and its groups from
    // /proc/PID/status; no NSS lookup.
    Caller authorize(const char* method) {
        const sdbus::Message* message = getObject().getCurrentlyProcessedMessage();
        Caller caller{message->getCredsEuid(), message->getCredsPid(), message->getSender()};
        if (privileged(*message)) return caller;
        std::string needs = "root";
        if (admin_.gid)
            needs = fmt::format("root or membership of group '{}'", admin_.name);
        else if (!admin_.name.empty())
            needs = fmt::format(
                "root (admin group '{}' was not known to this host when iohealthd started; if "
                "it has been created since, restart iohealthd)",
                admin_.name);
        handler_.refused(method, caller, needs);
        throw bus_error(BusError::kAccessDenied,
                        fmt::format("{} needs {} (caller uid {})", method, needs, caller.uid));
    }
    bool privileged(const sdbus::Message& message) const {
        return message.getCredsEuid() == 0 || in_admin_group(message);
    }
    bool in_admin_group(const sdbus::Message& message) const {
        if (!admin_.gid) return false;
        const std::vector<gid_t> groups = message.getCredsSupplementaryGids();
        if (std::find(groups.begin(), groups.end(), *admin_.gid) != groups.end()) return true;
        // /proc's Groups: leaves out the primary group; dbus-daemon's policy counts it.
        return message.getCredsEgid() == *admin_.gid;
    }

    sdbus::IConnection& connection_;
    ControlHandler& handler_;
    const std::string version_;
    const AdminGroup admin_;
    std::mutex mutex_;  // paths_ (the map, not the objects' values) and manager_
    std::map<std::string, std::unique_ptr<PathObject>> paths_;
    ManagerStatus manager_;
    const std::shared_ptr<PendingReplies> replies_ = std::make_shared<PendingReplies>();
};

BusService::BusService(sdbus::IConnection& connection, ControlHandler& handler, std::string version,
                       AdminGroup admin)
    : impl_(std::make_unique<Impl>(connection, handler, std::move(version), std::move(admin))) {}

BusService::~BusService() = default;

void BusService::update(const std::vector<PathStatus>& paths) {
    impl_->update(paths);
}
void BusService::set_manager(const ManagerStatus& status) {
    impl_->set_manager(status);
}

void BusService::emit_verdict_changed(const std::string& path, const std::string& old_verdict,
                                      const std::string& verdict, const std::string& reason) {
    impl_->emitVerdictChanged(path, old_verdict, verdict, reason);
}
void BusService::emit_escalation_started(const std::string& path, const std::string& reason) {
    impl_->emitEscalationStarted(path, reason);
}
void BusService::emit_step_started(const std::string& path, std::uint64_t id, int step,
                                   const std::string& action, bool dry_run) {
    impl_->emitStepStarted(path, id, step, action, dry_run);
}
void BusService::emit_step_finished(const std::string& path, std::uint64_t id, int step,
                                    const std::string& action, bool success,
                                    const std::string& detail) {
    impl_->emitStepFinished(path, id, step, action, success, detail);
}
void BusService::emit_escalation_averted(const std::string& path, const std::string& reason) {
    impl_->emitEscalationAverted(path, reason);
}

}  // namespace iohealth
