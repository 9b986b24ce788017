#!/bin/bash
# ticker.sh FILE: appends the guest's uptime (s, 2 decimals) to FILE every 0.1 s, for ever: the
# last line is when the guest was last alive (reset by the watchdog, or by anything else).
mkfifo /tmp/.ticker 2>/dev/null
exec {fd}<>/tmp/.ticker
while :; do
	read -r up _ </proc/uptime
	echo "$up" >>"$1"
	read -r -t 0.1 -u "$fd" _
done
