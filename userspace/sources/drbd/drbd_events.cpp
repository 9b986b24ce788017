#include "sources/drbd/drbd_events.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "core/enum_table.h"

namespace iohealth {
namespace {

constexpr EnumTable<DrbdEvent::Action, 6> kActions{{
    {DrbdEvent::Action::kExists, "exists"},
    {DrbdEvent::Action::kCreate, "create"},
    {DrbdEvent::Action::kChange, "change"},
    {DrbdEvent::Action::kDestroy, "destroy"},
    {DrbdEvent::Action::kCall, "call"},
    {DrbdEvent::Action::kResponse, "response"},
}};

constexpr EnumTable<DrbdEvent::Object, 7> kObjects{{
    {DrbdEvent::Object::kResource, "resource"},
    {DrbdEvent::Object::kConnection, "connection"},
    {DrbdEvent::Object::kDevice, "device"},
    {DrbdEvent::Object::kPeerDevice, "peer-device"},
    {DrbdEvent::Object::kPath, "path"},
    {DrbdEvent::Object::kHelper, "helper"},
    {DrbdEvent::Object::kEndOfDump, "-"},
}};

// Splits on runs of blanks.
std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        std::size_t j = i;
        while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
        if (j > i) out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

// "2026-11-22T03:13:17.594863+00:00", as --timestamps prints it.
bool is_timestamp(std::string_view w) {
    return !w.empty() && std::isdigit(static_cast<unsigned char>(w[0])) &&
           w.find('T') != std::string_view::npos;
}

template <typename T>
bool to_number(std::string_view text, T& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

// Reads the fields an event names, collecting one message per field that does not parse.
class Fields {
  public:
    Fields(const DrbdEvent& e, std::string& error) : e_(e), error_(error) {}

    const std::string* text(std::string_view key) const {
        const auto it = e_.fields.find(key);
        return it == e_.fields.end() ? nullptr : &it->second;
    }
    void text(std::string_view key, std::string& out) const {
        if (const auto* v = text(key)) out = *v;
    }
    template <typename T>
    void number(std::string_view key, T& out) {
        const auto* v = text(key);
        if (!v) return;
        T parsed{};
        if (to_number(*v, parsed))
            out = parsed;
        else
            bad(key, *v);
    }
    template <typename T>
    void number(std::string_view key, std::optional<T>& out) {
        if (!text(key)) return;
        T parsed = out.value_or(T{});
        number(key, parsed);
        out = parsed;
    }
    void yes_no(std::string_view key, bool& out) {
        const auto* v = text(key);
        if (!v) return;
        if (*v == "yes" || *v == "no")
            out = *v == "yes";
        else
            bad(key, *v);
    }
    // drbd-utils' resync_susp_str(): "no", or the reasons in this order joined by ','.
    void resync_suspended(std::string_view key, DrbdPeerDevice::ResyncSuspended& out) {
        const auto* v = text(key);
        if (!v) return;
        DrbdPeerDevice::ResyncSuspended parsed;
        if (*v != "no") {
            for (std::string_view rest = *v; !rest.empty();) {
                const auto comma = rest.find(',');
                const std::string_view reason = rest.substr(0, comma);
                rest =
                    comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
                bool* flag = reason == "user"           ? &parsed.user
                             : reason == "peer"         ? &parsed.peer
                             : reason == "dependency"   ? &parsed.dependency
                             : reason == "max-parallel" ? &parsed.max_parallel
                                                        : nullptr;
                if (!flag || *flag || (comma != std::string_view::npos && rest.empty())) {
                    bad(key, *v);
                    return;
                }
                *flag = true;
            }
        }
        out = parsed;
    }
    // An id the object is keyed by; absent means 0 (8.4 prints peer-node-id:0 anyway).
    std::optional<int> id(std::string_view key) {
        const auto* v = text(key);
        int n = 0;
        if (v && !to_number(*v, n)) {
            bad(key, *v);
            return std::nullopt;
        }
        return n;
    }

  private:
    void bad(std::string_view key, const std::string& value) {
        if (!error_.empty()) error_ += "; ";
        error_ += fmt::format("{} '{}' is not valid", key, value);
    }
    const DrbdEvent& e_;
    std::string& error_;
};

}  // namespace

std::optional<DrbdEvent> parse_drbd_event(std::string_view line, std::string& error) {
    auto w = words(line);
    std::size_t i = 0;
    if (i < w.size() && is_timestamp(w[i])) ++i;
    if (w.size() - i < 2) {
        error = "expected 'ACTION OBJECT key:value...'";
        return std::nullopt;
    }
    DrbdEvent e;
    const auto action = enum_value(kActions, w[i]);
    if (!action) {
        error = fmt::format("unknown action '{}'", w[i]);
        return std::nullopt;
    }
    const auto object = enum_value(kObjects, w[i + 1]);
    if (!object) {
        error = fmt::format("unknown object '{}'", w[i + 1]);
        return std::nullopt;
    }
    e.action = *action;
    e.object = *object;
    for (std::size_t k = i + 2; k < w.size(); ++k) {
        const auto colon = w[k].find(':');
        if (colon == std::string_view::npos || colon == 0) {
            error = fmt::format("field '{}' is not key:value", w[k]);
            return std::nullopt;
        }
        e.fields.emplace(std::string(w[k].substr(0, colon)), std::string(w[k].substr(colon + 1)));
    }
    if (e.object != DrbdEvent::Object::kEndOfDump && !e.fields.contains("name")) {
        error = "no name: field";
        return std::nullopt;
    }
    return e;
}

void DrbdState::apply(const DrbdEvent& e, std::string& error) {
    using Object = DrbdEvent::Object;
    if (e.object == Object::kEndOfDump) {
        complete_ = true;
        return;
    }
    // Handlers (call/response) change no state.
    if (e.object == Object::kHelper) return;
    Fields f(e, error);
    const std::string& name = *f.text("name");
    const bool destroy = e.action == DrbdEvent::Action::kDestroy;
    if (destroy && e.object == Object::kResource) {
        resources_.erase(name);
        return;
    }
    DrbdResource& r = resources_[name];
    const auto peer = f.id("peer-node-id");
    const auto volume = f.id("volume");
    if (!peer || !volume) return;
    switch (e.object) {
        case Object::kResource:
            f.text("role", r.role);
            f.text("suspended", r.suspended);
            break;
        case Object::kConnection: {
            if (destroy) {
                r.connections.erase(*peer);
                std::erase_if(r.peer_devices,
                              [&](const auto& pd) { return pd.first.first == *peer; });
                break;
            }
            DrbdConnection& c = r.connections[*peer];
            f.text("conn-name", c.name);
            f.text("connection", c.state);
            f.text("role", c.peer_role);
            f.yes_no("congested", c.congested);
            break;
        }
        case Object::kPath:
            if (!destroy) f.text("peer", r.connections[*peer].peer_address);
            break;
        case Object::kDevice: {
            if (destroy) {
                r.devices.erase(*volume);
                std::erase_if(r.peer_devices,
                              [&](const auto& pd) { return pd.first.second == *volume; });
                break;
            }
            DrbdDevice& d = r.devices[*volume];
            f.number("minor", d.minor);
            f.text("disk", d.disk);
            if (const auto* q = f.text("quorum")) d.quorum = *q == "yes";
            f.number("upper-pending", d.upper_pending);
            f.number("lower-pending", d.lower_pending);
            f.text("blocked", d.blocked);
            break;
        }
        case Object::kPeerDevice: {
            if (destroy) {
                r.peer_devices.erase({*peer, *volume});
                break;
            }
            DrbdPeerDevice& pd = r.peer_devices[{*peer, *volume}];
            f.text("replication", pd.replication);
            f.text("peer-disk", pd.peer_disk);
            f.number("out-of-sync", pd.out_of_sync);
            f.number("done", pd.done);
            f.number("pending", pd.pending);
            f.number("unacked", pd.unacked);
            f.number("sent", pd.sent);
            f.resync_suspended("resync-suspended", pd.resync_suspended);
            break;
        }
        case Object::kHelper:
        case Object::kEndOfDump:
            break;
    }
}

std::vector<std::string> DrbdState::apply_text(std::string_view text) {
    std::vector<std::string> errors;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (words(line).empty()) continue;
        std::string error;
        if (auto e = parse_drbd_event(line, error)) apply(*e, error);
        if (!error.empty()) errors.push_back(fmt::format("{} (in '{}')", error, line));
    }
    return errors;
}

}  // namespace iohealth
