#include "sources/libvirt/libvirt_source.h"

#include <libvirt/virterror.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sources/libvirt/libvirt_disk_location.h"
#include "sources/libvirt/libvirt_domain_xml.h"

namespace iohealth {
namespace {

// The event loop wakes at least this often, to reconnect and resync on time.
constexpr int kLoopTimerMs = 1000;
// An I/O error of one disk is logged again only after this long (qemu may report thousands).
constexpr Duration kIoErrorLogInterval = 10s;

// libvirt prints every error to stderr unless told otherwise; the source logs what matters.
void quiet(void*, virErrorPtr) {}

void init_libvirt_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (virInitialize() < 0) throw std::runtime_error("Failed to initialize libvirt");
        virSetErrorFunc(nullptr, quiet);
        if (virEventRegisterDefaultImpl() < 0)
            throw std::runtime_error("Failed to register libvirt's event loop");
    });
}

std::string last_error() {
    const char* message = virGetLastErrorMessage();
    return message ? message : "unknown libvirt error";
}

std::string uuid_of(virDomainPtr dom) {
    char uuid[VIR_UUID_STRING_BUFLEN] = {};
    virDomainGetUUIDString(dom, uuid);
    return uuid;
}

std::string name_of(virDomainPtr dom) {
    const char* name = virDomainGetName(dom);
    return name ? name : "?";
}

std::string_view or_empty(const char* s) {
    return s ? std::string_view(s) : std::string_view();
}

MountTable mount_table() {
    try {
        return MountTable::read();
    } catch (const std::runtime_error& e) {
        spdlog::warn("libvirt: {}; file disks are not placed on mounts", e.what());
        return MountTable({});
    }
}

Vm* find_vm(std::vector<Vm>& vms, const std::string& uuid) {
    const auto it =
        std::find_if(vms.begin(), vms.end(), [&](const Vm& vm) { return vm.uuid == uuid; });
    return it == vms.end() ? nullptr : &*it;
}

void upsert(std::vector<Vm>& vms, Vm vm) {
    if (Vm* known = find_vm(vms, vm.uuid))
        *known = std::move(vm);
    else
        vms.push_back(std::move(vm));
    std::sort(vms.begin(), vms.end(), [](const Vm& a, const Vm& b) { return a.name < b.name; });
}

void wake_handler(int, int fd, int, void*) {
    std::uint64_t n = 0;
    [[maybe_unused]] const auto r = ::read(fd, &n, sizeof n);
}

void timer_handler(int, void*) {}

}  // namespace

struct LibvirtSource::ConnectAttempt {
    std::mutex mutex;
    bool done = false;
    bool abandoned = false;  // timed out: the thread closes what it gets
    virConnectPtr conn = nullptr;
    std::string error;
    TimePoint started{};
    int wake_fd = -1;  // a dup of the source's eventfd, closed by the attempt's thread
};

LibvirtSource::LibvirtSource(Options options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {
    snapshot_.uri = options_.uri;
    snapshot_.error = "not connected yet";
}

LibvirtSource::~LibvirtSource() {
    stop();
}

void LibvirtSource::start() {
    if (thread_.joinable()) return;
    init_libvirt_once();
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0)
        throw std::runtime_error(
            fmt::format("Failed to create the libvirt thread's eventfd: {}", std::strerror(errno)));
    stopping_ = false;
    backoff_ = options_.retry_min;
    next_attempt_ = clock_.now();
    thread_ = std::thread([this] { run(); });
}

void LibvirtSource::stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto w = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(wake_fd_);
    wake_fd_ = -1;
}

VmSnapshot LibvirtSource::snapshot(std::uint64_t io_errors_after) const {
    std::lock_guard lock(mutex_);
    VmSnapshot out;
    out.uri = snapshot_.uri;
    out.connected = snapshot_.connected;
    out.error = snapshot_.error;
    out.as_of = snapshot_.as_of;
    out.vms = snapshot_.vms;
    for (const VmIoError& e : snapshot_.io_errors)
        if (e.seq > io_errors_after) out.io_errors.push_back(e);
    return out;
}

void LibvirtSource::set_error(const std::string& error) {
    std::lock_guard lock(mutex_);
    snapshot_.connected = false;
    snapshot_.error = error;
}

void LibvirtSource::run() {
    const int handle =
        virEventAddHandle(wake_fd_, VIR_EVENT_HANDLE_READABLE, wake_handler, nullptr, nullptr);
    const int timer = virEventAddTimeout(kLoopTimerMs, timer_handler, nullptr, nullptr);
    while (!stopping_) {
        const TimePoint now = clock_.now();
        if (conn_ && (closed_ || virConnectIsAlive(conn_) != 1))
            disconnect(fmt::format("the connection to {} closed", options_.uri));
        if (!conn_ && (attempt_ || now >= next_attempt_) && !connect(now) && !attempt_) {
            next_attempt_ = now + backoff_;
            backoff_ = std::min(backoff_ * 2, options_.retry_max);
        }
        if (conn_) {
            if (now >= next_resync_)
                refresh_all();
            else
                refresh_pending();
        }
        if (virEventRunDefaultImpl() < 0) {
            spdlog::error("libvirt: the event loop failed: {}; VM tracking stops", last_error());
            set_error("libvirt's event loop failed");
            break;
        }
    }
    if (handle >= 0) virEventRemoveHandle(handle);
    if (timer >= 0) virEventRemoveTimeout(timer);
    if (conn_) disconnect("stopping");
    if (attempt_) {
        std::lock_guard lock(attempt_->mutex);
        attempt_->abandoned = true;  // its thread closes the connection if it ever gets one
    }
    attempt_.reset();
}

bool LibvirtSource::connect(TimePoint now) {
    if (!attempt_) {
        // Read-only: the source only looks, and a read-only socket is all it needs for
        // events. On a thread of its own: virConnectOpen has no timeout, and a libvirtd that
        // accepts and never answers would hold the source (and its stop()) for as long.
        attempt_ = std::make_shared<ConnectAttempt>();
        attempt_->started = now;
        attempt_->wake_fd = ::dup(wake_fd_);
        std::thread([attempt = attempt_, uri = options_.uri] {
            virConnectPtr conn = virConnectOpenReadOnly(uri.c_str());
            const std::string error = conn ? std::string() : last_error();
            std::lock_guard lock(attempt->mutex);
            if (attempt->abandoned) {
                if (conn) virConnectClose(conn);
            } else {
                attempt->conn = conn;
                attempt->error = error;
            }
            attempt->done = true;
            const std::uint64_t one = 1;
            if (attempt->wake_fd >= 0) {
                [[maybe_unused]] const auto w = ::write(attempt->wake_fd, &one, sizeof one);
                ::close(attempt->wake_fd);
                attempt->wake_fd = -1;
            }
        }).detach();
    }
    std::unique_lock lock(attempt_->mutex);
    if (!attempt_->done) {
        if (now - attempt_->started < options_.connect_timeout) return false;
        attempt_->abandoned = true;
        lock.unlock();
        attempt_.reset();
        outage(fmt::format("connecting to {} did not finish within {}", options_.uri,
                           format_duration(options_.connect_timeout)));
        return false;
    }
    virConnectPtr conn = attempt_->conn;
    const std::string error = attempt_->error;
    lock.unlock();
    attempt_.reset();
    if (!conn) {
        outage(fmt::format("cannot connect to {}: {}", options_.uri, error));
        return false;
    }
    return connected(conn);
}

bool LibvirtSource::connected(virConnectPtr conn) {
    conn_ = conn;
    closed_ = false;
    // A local driver (test:///) has no keepalive; a remote one closes the connection after
    // interval x count seconds of silence, and the close callback brings the reconnect.
    if (virConnectSetKeepAlive(conn_, options_.keepalive_interval_s, options_.keepalive_count) < 0)
        spdlog::debug("libvirt: no keepalive on {}: {}", options_.uri, last_error());
    close_callback_ = virConnectRegisterCloseCallback(conn_, on_close, this, nullptr) == 0;

    const std::pair<int, virConnectDomainEventGenericCallback> events[] = {
        {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle)},
        {VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, VIR_DOMAIN_EVENT_CALLBACK(on_io_error)},
        {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device_changed)},
        {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_changed)},
    };
    for (const auto& [id, callback] : events) {
        const int registered =
            virConnectDomainEventRegisterAny(conn_, nullptr, id, callback, this, nullptr);
        if (registered < 0) {
            const std::string error = fmt::format("cannot subscribe to domain events on {}: {}",
                                                  options_.uri, last_error());
            disconnect(error);
            return false;
        }
        callbacks_.push_back(registered);
    }
    spdlog::info("libvirt: connected to {} (read-only)", options_.uri);
    outage_logged_.clear();
    backoff_ = options_.retry_min;
    refresh_all();
    return true;
}

void LibvirtSource::disconnect(const std::string& why) {
    for (int id : callbacks_) virConnectDomainEventDeregisterAny(conn_, id);
    callbacks_.clear();
    if (close_callback_) virConnectUnregisterCloseCallback(conn_, on_close);
    close_callback_ = false;
    virConnectClose(conn_);
    conn_ = nullptr;
    if (!stopping_) {
        outage(why);
        next_attempt_ = clock_.now() + backoff_;
    }
    set_error(why);
}

void LibvirtSource::outage(const std::string& why) {
    set_error(why);
    if (why == outage_logged_) return;
    outage_logged_ = why;
    const std::optional<TimePoint> as_of = snapshot(kNoIoErrors).as_of;
    spdlog::warn("libvirt: {}; {}, reconnecting (backoff up to {})", why,
                 as_of ? fmt::format("VM lists are the last known, from {} ago",
                                     format_duration(clock_.now() - *as_of))
                       : std::string("no VM list yet"),
                 format_duration(options_.retry_max));
}

bool LibvirtSource::read_vm(virDomainPtr dom, Vm& vm, std::string& error) {
    vm.uuid = uuid_of(dom);
    vm.name = name_of(dom);
    if (virDomainGetState(dom, &vm.state, &vm.reason, 0) < 0) {
        error = fmt::format("state of '{}': {}", vm.name, last_error());
        return false;
    }
    std::unique_ptr<char, decltype(&std::free)> xml(virDomainGetXMLDesc(dom, 0), &std::free);
    if (!xml) {
        error = fmt::format("XML of '{}': {}", vm.name, last_error());
        return false;
    }
    try {
        vm.disks = parse_domain_xml(xml.get()).disks;
    } catch (const std::runtime_error& e) {
        error = fmt::format("'{}': {}", vm.name, e.what());
        return false;
    }
    return true;
}

void LibvirtSource::refresh_all() {
    {
        std::lock_guard lock(mutex_);
        changed_.clear();  // everything is read now
    }
    virDomainPtr* doms = nullptr;
    const int n = virConnectListAllDomains(conn_, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    next_resync_ = clock_.now() + options_.resync;
    if (n < 0) {
        spdlog::warn("libvirt: cannot list the domains on {}: {}", options_.uri, last_error());
        return;
    }
    const MountTable mounts = mount_table();
    std::vector<Vm> vms;
    for (int i = 0; i < n; ++i) {
        Vm vm;
        std::string error;
        if (read_vm(doms[i], vm, error)) {
            for (auto& disk : vm.disks)
                for (auto& image : disk.images) locate(image, mounts);
            upsert(vms, std::move(vm));
        } else {
            spdlog::warn("libvirt: cannot read {}; left out of the VM list", error);
        }
        virDomainFree(doms[i]);
    }
    std::free(doms);
    std::lock_guard lock(mutex_);
    snapshot_.vms = std::move(vms);
    snapshot_.connected = true;
    snapshot_.error.clear();
    snapshot_.as_of = clock_.now();
}

void LibvirtSource::refresh_pending() {
    std::set<std::string> changed;
    {
        std::lock_guard lock(mutex_);
        changed.swap(changed_);
    }
    if (changed.empty()) return;
    const MountTable mounts = mount_table();
    for (const std::string& uuid : changed) {
        virDomainPtr dom = virDomainLookupByUUIDString(conn_, uuid.c_str());
        Vm vm;
        std::string error;
        const bool active = dom && virDomainIsActive(dom) == 1;
        const bool read = active && read_vm(dom, vm, error);
        if (dom) virDomainFree(dom);
        if (active && !read) {
            spdlog::warn("libvirt: cannot read {}; keeping what was known", error);
            continue;
        }
        for (auto& disk : vm.disks)
            for (auto& image : disk.images) locate(image, mounts);
        std::lock_guard lock(mutex_);
        if (active) {
            upsert(snapshot_.vms, std::move(vm));
        } else {
            std::erase_if(snapshot_.vms, [&](const Vm& v) { return v.uuid == uuid; });
        }
        snapshot_.as_of = clock_.now();
    }
}

void LibvirtSource::mark_changed(virDomainPtr dom) {
    std::lock_guard lock(mutex_);
    changed_.insert(uuid_of(dom));
}

int LibvirtSource::on_lifecycle(virConnectPtr, virDomainPtr dom, int event, int detail,
                                void* opaque) {
    auto* self = static_cast<LibvirtSource*>(opaque);
    // The event states the new state exactly; re-reading it later would give the same.
    if (event == VIR_DOMAIN_EVENT_SUSPENDED && detail == VIR_DOMAIN_EVENT_SUSPENDED_IOERROR) {
        spdlog::warn("libvirt: VM '{}' paused on an I/O error", name_of(dom));
        std::lock_guard lock(self->mutex_);
        if (Vm* vm = find_vm(self->snapshot_.vms, uuid_of(dom))) {
            vm->state = VIR_DOMAIN_PAUSED;
            vm->reason = VIR_DOMAIN_PAUSED_IOERROR;
            self->snapshot_.as_of = self->clock_.now();
            return 0;
        }
    }
    self->mark_changed(dom);
    return 0;
}

void LibvirtSource::on_device_changed(virConnectPtr, virDomainPtr dom, const char*, void* opaque) {
    static_cast<LibvirtSource*>(opaque)->mark_changed(dom);
}

void LibvirtSource::on_close(virConnectPtr, int, void* opaque) {
    static_cast<LibvirtSource*>(opaque)->closed_ = true;
}

void LibvirtSource::on_io_error(virConnectPtr, virDomainPtr dom, const char* src_path,
                                const char* dev_alias, int, const char* reason, void* opaque) {
    auto* self = static_cast<LibvirtSource*>(opaque);
    VmIoError e;
    e.at = self->clock_.now();
    e.vm = name_of(dom);
    e.source = std::string(or_empty(src_path));
    e.reason = std::string(or_empty(reason));
    const std::string uuid = uuid_of(dom);
    {
        std::lock_guard lock(self->mutex_);
        if (const Vm* vm = find_vm(self->snapshot_.vms, uuid)) {
            for (const VmDisk& disk : vm->disks) {
                const bool named =
                    (!disk.alias.empty() && disk.alias == or_empty(dev_alias)) ||
                    std::any_of(disk.images.begin(), disk.images.end(),
                                [&](const DiskLocation& l) { return l.path == e.source; });
                if (!named) continue;
                e.disk = disk.target;
                e.where = disk.images;
                break;
            }
        }
    }
    if (e.where.empty() && !e.source.empty()) {
        // A disk the snapshot does not know yet (hot-plugged a moment ago): place the image.
        DiskLocation l;
        l.type = e.source.starts_with("/dev/") ? "block" : "file";
        l.path = e.source;
        locate(l, mount_table());
        e.disk = std::string(or_empty(dev_alias));
        e.where.push_back(std::move(l));
    }

    std::lock_guard lock(self->mutex_);
    TimePoint& logged = self->io_error_logged_[fmt::format("{}/{}/{}", uuid, e.disk, e.reason)];
    if (logged == TimePoint{} || e.at - logged >= kIoErrorLogInterval) {
        spdlog::warn("libvirt: VM '{}' disk {} ({}): {}", e.vm, e.disk, e.source,
                     e.reason.empty() ? io_error_reason_text(e.reason)
                                      : fmt::format("I/O error ({})", e.reason));
        logged = e.at;
    }
    e.seq = ++self->seq_;
    self->snapshot_.io_errors.push_back(std::move(e));
    while (self->snapshot_.io_errors.size() > self->options_.io_error_history)
        self->snapshot_.io_errors.pop_front();
}

}  // namespace iohealth
