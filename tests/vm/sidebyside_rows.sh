#!/usr/bin/env bash
# The VM tier's DRBD, NFS and device-mapper scenarios as side-by-side rows (JSON lines in the
# form of tests/sidebyside/result.h), from the timelines a VM-tier run left behind:
#
#   tests/vm/sidebyside_rows.sh build/tests/vm/results > vm.jsonl
#   build/tests/sidebyside/iohealth-sidebyside table docs/side-by-side.jsonl vm.jsonl
#
# iohealth's side is what iohealthd decided in the guest (verdicts and the first
# escalation-started, in seconds after the fault step). The rows carry no "peer" object: the
# table runs the peer model in virtual time on the same fault timeline, written in the words
# a heartbeat writer on that path sees (an NFS server stopped under a hard mount, a suspended
# dm device and a DRBD primary waiting on a silent peer all hold a write: "hang").
#
# Each row's scale is the scenario's dead_after over the preset's default one (block and
# DRBD 25 s, NFS 75 s), so the peer's timings shrink by the same factor as iohealth's. A dead
# row's fault never heals for the peer, and lasts 18 dead_afters (450 s unscaled: longer than
# the peer's 380 s to fence a hung path).
set -euo pipefail

results=${1:?usage: sidebyside_rows.sh RESULTS_DIR}

# name | results dir | kind | fault step (ERE) | which match | end of the fault (ERE, or "") | storage
rows=(
  "dm-suspend-resumed|block-dm-suspend|contention|step dmsetup suspend iohdelay|1|step dmsetup resume iohdelay|hang"
  "dm-suspend|block-dm-suspend|dead|step dmsetup suspend iohdelay|2|step dmsetup resume iohdelay|hang"
  "drbd-backing-resumed|drbd-backing-suspend|contention|step dmsetup suspend bdisk0|1|step dmsetup resume bdisk0|hang"
  "drbd-backing-suspend|drbd-backing-suspend|dead|step dmsetup suspend bdisk0|2|step dmsetup resume bdisk0|hang"
  "drbd-peer-silent|drbd-peer-silent|contention|step drop every packet|1|step DRBD dropped the peer|hang"
  "drbd-no-data-left|drbd-flakey|dead|step disconnect r1 from r0|1||eio"
  "nfs-server-stopped|nfs-server|dead|step rpc\\.nfsd 0$|1|step rpc\\.nfsd \\(the server is back|hang"
  "nfs-export-disk-stopped|nfs-server|dead|step dmsetup suspend nfsexport|1|step dmsetup resume nfsexport|hang"
  "nfs-netem|nfs-netem|contention|step tc qdisc add dev lo root netem|1|step tc qdisc del|delay 500 3000"
)

# "   +24.8s step ..." -> "24.8"
at() { sed -E 's/^ *\+([0-9.]+)s .*/\1/'; }

for row in "${rows[@]}"; do
  IFS='|' read -r name dir kind fault nth heal storage <<<"$row"
  timeline="$results/$dir/timeline.txt"
  conf="$results/$dir/iohealthd.conf"
  if [[ ! -f $timeline || ! -f $conf ]]; then
    echo "sidebyside_rows: $dir: no timeline.txt or iohealthd.conf in $results (run the VM tier first)" >&2
    exit 1
  fi
  t0=$(grep -E " $fault" "$timeline" | sed -n "${nth}p" | at)
  [[ -n $t0 ]] || { echo "sidebyside_rows: $name: no fault step '$fault' (#$nth) in $timeline" >&2; exit 1; }
  # The phase ends at the next section, or when the daemon stops.
  end=$(awk -v t0="$t0" '{ t = substr($1, 2) + 0 } t > t0 && / step (---|stop iohealthd)/ { print t; exit }' "$timeline")
  end=${end:-$(tail -n1 "$timeline" | at)}
  healed=""
  if [[ -n $heal ]]; then
    healed=$(awk -v t0="$t0" -v re=" $heal" '{ t = substr($1, 2) + 0 } t > t0 && $0 ~ re { print t; exit }' "$timeline")
  fi
  if [[ $kind == dead ]]; then
    # A dead path stays dead: the scenario heals only to clean up after iohealth's decision.
    # The row ends there, and the peer model's storage never heals.
    end=${healed:-$end}
    healed=""
  fi

  io_timeout=$(sed -nE 's/^io_timeout *= *([0-9.]+)s$/\1/p' "$conf" | tail -n1)
  dead_after=$(sed -nE 's/^dead_after *= *([0-9.]+)s$/\1/p' "$conf" | tail -n1)
  dead_after=${dead_after:-$(awk -v t="$io_timeout" 'BEGIN { print 2.5 * t }')}
  default_dead=25
  grep -qE '^mount *=' "$conf" && default_dead=75

  awk -v t0="$t0" -v end="$end" '
    { t = substr($1, 2) + 0 }
    t < t0 || t > end { next }
    $2 == "verdict-changed" && match($0, /-> [A-Z]+:/) {
      printf "%s %s\n", t - t0, substr($0, RSTART + 3, RLENGTH - 4)
    }
    $2 == "escalation-started" { printf "%s FENCE\n", t - t0 }' "$timeline" |
    jq -R -s -c \
      --arg name "$name" --arg kind "$kind" --arg storage "$storage" \
      --argjson scale "$(awk -v d="$dead_after" -v n="$default_dead" 'BEGIN { print d / n }')" \
      --argjson length "$(awk -v a="$t0" -v b="$end" -v k="$kind" -v d="$dead_after" \
        'BEGIN { n = b - a; if (k == "dead" && n < 18 * d) n = 18 * d; print n }')" \
      --argjson heal "$(if [[ -n $healed ]]; then awk -v a="$t0" -v b="$healed" 'BEGIN { print b - a }'; else echo null; fi)" '
      [split("\n")[] | select(length > 0) | split(" ") | {at_s: (.[0] | tonumber), what: .[1]}] as $lines
      | {scenario: $name, tier: "vm", kind: $kind, scale: $scale, length_s: $length,
         warmup_s: (90 * $scale),
         timeline: ([{at_s: 0, storage: $storage}]
                    + (if $heal == null then [] else [{at_s: $heal, storage: "heal"}] end)),
         iohealth: {fence_at_s: ([$lines[] | select(.what == "FENCE") | .at_s] | first),
                    verdicts: [$lines[] | select(.what != "FENCE") | {at_s, verdict: .what}],
                    note: "VM tier: Debian 6.1 guest under qemu TCG"}}'
done
