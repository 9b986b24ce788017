#!/bin/sh
# policy/org.iohealth.IoHealth1.policy: well-formed XML, valid against polkit's DTD where
# polkitd ships it, with the four actions and the defaults docs/dbus-api.md states.
# usage: polkit_policy_check.sh FILE. Exit 77 (skip) without xmllint (libxml2-utils).
set -u
file=$1
command -v xmllint >/dev/null || { echo "xmllint not found (install libxml2-utils)"; exit 77; }
dtd=/usr/share/polkit-1/policyconfig-1.dtd
if [ -r "$dtd" ]; then
    xmllint --noout --dtdvalid "$dtd" "$file" || exit 1
else
    xmllint --noout "$file" || exit 1
    echo "note: $dtd not found (polkitd), checked well-formedness only"
fi
fail=0
expect() {  # XPATH EXPECTED
    got=$(xmllint --xpath "$1" "$file")
    [ "$got" = "$2" ] || { echo "$1: expected '$2', got '$got'"; fail=1; }
}
expect "count(/policyconfig/action)" 4
for setting in allow_any allow_inactive allow_active; do
    expect "string(/policyconfig/action[@id='org.iohealth.IoHealth1.read']/defaults/$setting)" yes
    for action in set-mode fence reload; do
        expect "string(/policyconfig/action[@id='org.iohealth.IoHealth1.$action']/defaults/$setting)" \
            auth_admin_keep
    done
done
exit $fail
