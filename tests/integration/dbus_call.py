#!/usr/bin/python3
"""One D-Bus method call from a separate process, so tests can make it as another user
(setpriv --reuid=nobody ...). Prints "ok <reply>" or "error <name>: <message>".

usage: dbus_call.py ADDRESS DEST PATH INTERFACE METHOD SIGNATURE [ARG...]
SIGNATURE holds basic types only (s, o, t, u, i, b), and v for a string variant; b takes
true/false.
"""
import sys

import dbus

address, dest, path, interface, method, signature, *args = sys.argv[1:]
convert = {'s': str, 'o': str, 'v': str, 't': int, 'u': int, 'i': int, 'b': lambda v: v == 'true'}
typed = [convert[c](a) for c, a in zip(signature, args)]
bus = dbus.bus.BusConnection(address)
try:
    reply = bus.call_blocking(dest, path, interface, method, signature, typed, timeout=10)
    print('ok', reply)
except dbus.exceptions.DBusException as e:
    print('error', f'{e.get_dbus_name()}: {e.get_dbus_message()}')
