#include "sources/nfs/nfs_mountstats.h"

#include "os/text.h"

namespace iohealth {
namespace {

// Numbers of `fields` from `from` on; false if any is not a number. idle_time and
// connect_time are printed signed (%ld); a negative one reads as 0 (neither is used).
bool numbers(const std::vector<std::string_view>& fields, std::size_t from,
             std::vector<std::uint64_t>& out) {
    out.clear();
    for (std::size_t i = from; i < fields.size(); ++i) {
        auto f = fields[i];
        const bool negative = f.starts_with('-');
        if (negative) f.remove_prefix(1);
        std::uint64_t v = 0;
        if (!to_u64(f, v)) return false;
        out.push_back(negative ? 0 : v);
    }
    return true;
}

// net/sunrpc/xprtsock.c xs_*_print_stats and xprtrdma's: the positions of the fields we read
// after the protocol name.
struct XprtLayout {
    std::string_view proto;
    std::size_t min_fields;
    int connect_count;  // -1: none
    std::size_t sends, recvs, bad_xids, backlog_u;
};
constexpr XprtLayout kLayouts[] = {
    // srcport bind_count connect_count connect_time idle_time sends recvs bad_xids req_u bklog_u
    {"tcp", 10, 2, 5, 6, 7, 9},
    // srcport bind_count sends recvs bad_xids req_u bklog_u
    {"udp", 7, -1, 2, 3, 4, 6},
    // 0 0 connect_count connect_time idle_time sends recvs bad_xids req_u bklog_u
    {"rdma", 10, 2, 5, 6, 7, 9},
    // bind_count connect_count connect_time idle_time sends recvs bad_xids req_u bklog_u
    {"local", 9, 1, 4, 5, 6, 8},
};

bool parse_xprt(const std::vector<std::string_view>& f, NfsXprtStats& x) {
    if (f.size() < 2) return false;
    for (const auto& l : kLayouts) {
        if (f[1] != l.proto) continue;
        std::vector<std::uint64_t> v;
        if (!numbers(f, 2, v) || v.size() < l.min_fields) return false;
        if (!x.proto.empty() && x.proto != l.proto) return false;
        x.proto = l.proto;
        ++x.transports;
        if (l.connect_count >= 0) x.connect_count += v[static_cast<std::size_t>(l.connect_count)];
        x.sends += v[l.sends];
        x.recvs += v[l.recvs];
        x.bad_xids += v[l.bad_xids];
        x.backlog_u += v[l.backlog_u];
        return true;
    }
    return false;
}

bool parse_op(const std::vector<std::string_view>& f, NfsMountStats& m) {
    // "READ:" then 8 (version 1.0) or 9 (1.1) values.
    if (f.empty() || !f[0].ends_with(':')) return false;
    std::vector<std::uint64_t> v;
    if (!numbers(f, 1, v) || (v.size() != 8 && v.size() != 9)) return false;
    NfsOpStats& op = m.ops[std::string(f[0].substr(0, f[0].size() - 1))];
    op = NfsOpStats{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v.size() == 9 ? v[8] : 0};
    return true;
}

bool is_nfs(std::string_view fstype) {
    return fstype == "nfs" || fstype == "nfs4";
}

}  // namespace

std::string unescape_mount_field(std::string_view field) {
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            const auto oct = field.substr(i + 1, 3);
            if (oct.find_first_not_of("01234567") == std::string_view::npos) {
                out.push_back(
                    static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0')));
                i += 3;
                continue;
            }
        }
        out.push_back(field[i]);
    }
    return out;
}

MountstatsParse parse_mountstats(std::string_view text) {
    MountstatsParse out;
    NfsMountStats* current = nullptr;
    bool in_ops = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto eol = text.find('\n', pos);
        const auto line = text.substr(pos, eol == std::string_view::npos ? text.npos : eol - pos);
        pos = eol == std::string_view::npos ? text.size() : eol + 1;
        const auto f = split_ws(line);
        if (f.empty()) continue;
        if (f[0] == "device") {
            // device SOURCE mounted on MOUNTPOINT with fstype TYPE [statvers=X]
            current = nullptr;
            in_ops = false;
            if (f.size() < 7 || f[2] != "mounted" || f[3] != "on" || f[5] != "with" ||
                f[6] != "fstype" || f.size() < 8) {
                out.skipped.emplace_back(line);
                continue;
            }
            if (!is_nfs(f[7])) continue;
            NfsMountStats m;
            m.device = unescape_mount_field(f[1]);
            m.mount_point = unescape_mount_field(f[4]);
            m.fstype = f[7];
            out.mounts.push_back(std::move(m));
            current = &out.mounts.back();
            continue;
        }
        if (current == nullptr) continue;  // a non-NFS mount has no stats lines; stray lines
        bool ok = true;
        if (f[0] == "opts:") {
            current->options = f.size() > 1 ? std::string(f[1]) : std::string();
        } else if (f[0] == "age:") {
            ok = f.size() == 2 && to_u64(f[1], current->age_s);
        } else if (f[0] == "xprt:") {
            NfsXprtStats x = current->xprt.value_or(NfsXprtStats{});
            ok = parse_xprt(f, x);
            if (ok) current->xprt = x;
        } else if (f[0] == "per-op" && f.size() == 2 && f[1] == "statistics") {
            in_ops = true;
        } else if (in_ops) {
            ok = parse_op(f, *current);
        }
        // Other lines (impl_id, caps, nfsv4, sec, events, bytes, RPC iostats, fsc) are not
        // used.
        if (!ok) out.skipped.emplace_back(line);
    }
    return out;
}

NfsOpStats data_op_totals(const NfsMountStats& m) {
    NfsOpStats t;
    for (const char* name : {"READ", "READ_PLUS", "WRITE", "COMMIT"}) {
        const auto it = m.ops.find(name);
        if (it == m.ops.end()) continue;
        const auto& o = it->second;
        t.ops += o.ops;
        t.ntrans += o.ntrans;
        t.timeouts += o.timeouts;
        t.bytes_sent += o.bytes_sent;
        t.bytes_recv += o.bytes_recv;
        t.queue_ms += o.queue_ms;
        t.rtt_ms += o.rtt_ms;
        t.execute_ms += o.execute_ms;
        t.errors += o.errors;
    }
    return t;
}

}  // namespace iohealth
