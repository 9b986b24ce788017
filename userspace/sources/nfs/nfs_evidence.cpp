#include "sources/nfs/nfs_evidence.h"

#include <fmt/format.h>
#include <algorithm>
#include <limits>

#include "sources/block/diskstats_source.h"

namespace iohealth {
namespace {

// A counter that went back belongs to a new transport or reloaded probes: all of it is new.
std::uint64_t delta(std::uint64_t prev, std::uint64_t cur) {
    return counter_delta(prev, cur, 64);
}

std::uint32_t clamp32(std::uint64_t v) {
    return static_cast<std::uint32_t>(
        std::min<std::uint64_t>(v, std::numeric_limits<std::uint32_t>::max()));
}

TimePoint from_ns(std::uint64_t ns) {
    return from_usec(static_cast<std::int64_t>(ns / 1000));
}

}  // namespace

StorageFacts nfs_facts(const std::string& server, const NfsTransportTick& t, TimePoint now) {
    StorageFacts f;
    f.server_last_reply = t.last_reply;
    if (t.waiting > 0) f.waiting_on = "NFS server " + server;
    if (t.baseline) return f;
    const bool asked = t.waiting > 0;
    const bool recent = t.last_reply && now - *t.last_reply <= kNfsAnswerWindow;
    const bool during_wait =
        !t.oldest_wait || (t.last_reply && *t.last_reply >= now - *t.oldest_wait);
    const bool answered = t.replies > 0 || (asked && recent && during_wait);
    if (asked || answered) f.server_answering = answered;

    std::string events;
    if (t.major_timeouts > 0) events += fmt::format(", {} major timeout(s)", t.major_timeouts);
    if (t.retransmits > 0) events += fmt::format(", {} retransmit(s)", t.retransmits);
    const std::string oldest =
        t.oldest_wait ? fmt::format(", oldest {}", format_duration(*t.oldest_wait)) : "";
    if (asked && !answered)
        f.note = fmt::format("NFS server {} not answering: {} RPC(s) waiting{}{}", server,
                             t.waiting, oldest, events);
    else if (asked)
        f.note =
            fmt::format("NFS server {} answers ({} replies this tick) while {} RPC(s) wait{}{}",
                        server, t.replies, t.waiting, oldest, events);
    else if (!events.empty())
        f.note = fmt::format("NFS server {}{}", server, events);
    return f;
}

KernelEvidence nfs_evidence_from_probes(const NfsMountCounters& prev, const NfsMountCounters& cur,
                                        const NfsInFlight& in_flight, const NfsInFlight& waiting,
                                        std::uint64_t now_ns) {
    KernelEvidence ev;
    ev.available = true;
    ev.issued = delta(prev.issued, cur.issued);
    ev.completed = delta(prev.completed, cur.completed);
    ev.bytes = delta(prev.bytes, cur.bytes);
    ev.errors.io = delta(prev.errors[0], cur.errors[0]);
    ev.errors.timeout = delta(prev.errors[1], cur.errors[1]);
    ev.errors.other = delta(prev.errors[2], cur.errors[2]);
    for (std::size_t op = 0; op < cur.latency.size(); ++op)
        for (int s = 0; s < LatencyHistogram::kSlots; ++s)
            ev.latency.add_to_slot(s,
                                   delta(prev.latency[op].slots()[s], cur.latency[op].slots()[s]));
    if (cur.last_complete_ns != 0) ev.last_completion = from_ns(cur.last_complete_ns);
    ev.in_flight = std::max(in_flight.count, waiting.count);
    std::optional<std::uint64_t> oldest;
    for (const auto* f : {&in_flight, &waiting})
        if (f->count > 0)
            oldest = std::min(oldest.value_or(f->oldest_start_ns), f->oldest_start_ns);
    ev.oldest_in_flight_age = Duration{
        oldest && *oldest < now_ns ? static_cast<std::int64_t>((now_ns - *oldest) / 1000) : 0};
    return ev;
}

KernelEvidence nfs_evidence_from_mountstats(const NfsMountStats& prev, const NfsMountStats& cur,
                                            std::uint32_t waiting) {
    const NfsOpStats p = data_op_totals(prev);
    const NfsOpStats c = data_op_totals(cur);
    KernelEvidence ev;
    ev.available = true;
    ev.completed = delta(p.ops, c.ops);
    // Nothing counts requests started: what finished is the best lower bound.
    ev.issued = ev.completed;
    // Payload plus RPC headers: WRITE sends it, READ receives it.
    ev.bytes = delta(p.bytes_sent, c.bytes_sent) + delta(p.bytes_recv, c.bytes_recv);
    // A soft mount's RPC that reached its major timeout completes with an error and a timeout.
    const std::uint64_t errors = delta(p.errors, c.errors);
    ev.errors.timeout = std::min(errors, delta(p.timeouts, c.timeouts));
    ev.errors.io = errors - ev.errors.timeout;
    // APPROXIMATION: mountstats sums execute time per op, so every completion of the tick is put
    // in the slot of their mean (start to completion, retransmits included).
    if (ev.completed > 0) {
        const auto mean_us =
            static_cast<std::int64_t>(delta(p.execute_ms, c.execute_ms) * 1000 / ev.completed);
        ev.latency.add(Duration{mean_us}, ev.completed);
    }
    ev.in_flight = waiting;
    return ev;
}

std::uint32_t UnansweredEstimate::update(const NfsXprtStats& prev, const NfsXprtStats& cur) {
    const auto sent = delta(prev.sends, cur.sends);
    const auto received = delta(prev.recvs, cur.recvs) + delta(prev.bad_xids, cur.bad_xids);
    const auto connects = delta(prev.connect_count, cur.connect_count);
    if (received > 0) {
        // Sends after the tick's last reply cannot be told from those before it: only an
        // excess of sends over replies stays outstanding.
        sends_ = sent > received ? sent - received : 0;
        connects_ = 0;
    } else {
        sends_ += sent;
        connects_ += connects;
    }
    return value();
}

std::uint32_t UnansweredEstimate::value() const {
    return std::max<std::uint32_t>(clamp32(sends_), connects_ > 0 ? 1 : 0);
}

}  // namespace iohealth
