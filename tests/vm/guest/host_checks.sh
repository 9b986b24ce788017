# shellcheck shell=bash
# Host-side checks of the systemd tier's reboot scenarios (sourced by scenarios/*.host.sh with
# $results set): check prints ok/FAIL and keeps the status in $failed; journal_checks reads
# the guest's persistent journal (run_vm.sh extracted it to $results/journal).
failed=0
# What configure_graceful_ladder (guest/systemd.sh) sets: graceful_deadline and the tick, s.
deadline=12 tick=1
check() {
  if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; failed=1; fi
}
# journal_checks PATH ACTION: the persistent journal holds iohealthd's record of the step, with
# its catalog MESSAGE_ID and the structured fields an alert reads.
journal_checks() {
  local record
  check "the guest's persistent journal was read back ($(ls "$results"/journal/*/*.journal 2>/dev/null | wc -l) files)" \
    '[ -n "$(ls "$results"/journal/*/system*.journal 2>/dev/null)" ]'
  record=$(journalctl --directory="$results/journal" -b -u iohealthd.service -o verbose --no-pager \
    IOHEALTH_PATH="$1" IOHEALTH_ACTION="$2" IOHEALTH_EVENT=step-started 2>/dev/null)
  check "the journal has the $2 step of path $1 with its fields" '[ -n "$record" ]'
  check "at priority crit or higher" '[[ $record == *"PRIORITY=2"* || $record == *"PRIORITY=1"* || $record == *"PRIORITY=0"* ]]'
  echo "journal: $(journalctl --directory="$results/journal" -b -u iohealthd.service -o cat --no-pager \
    IOHEALTH_PATH="$1" IOHEALTH_ACTION="$2" IOHEALTH_EVENT=step-started 2>/dev/null | head -n1)"
}
