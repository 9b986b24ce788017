# Where `cmake --install` puts each file. Programs, man pages and shared data follow the
# install prefix (GNUInstallDirs). The files other programs read (systemd's units, sysusers
# and catalog, dbus-daemon's bus policy, polkitd's actions, bash-completion's scripts) go where
# those programs look, whatever the prefix: the directory named in their pkg-config file, or
# their fixed default when that file is absent. Each is a cache variable, so a packager can
# override it. The unit's ExecStart is written at install time from the prefix actually used
# (systemd/CMakeLists.txt), so `cmake --install --prefix /usr` cannot leave it pointing at
# /usr/local.

# iohealth_reader_dir(VAR PKG PKGVAR DEFAULT DOC): VAR = PKG's PKGVAR, else DEFAULT.
function(iohealth_reader_dir var pkg pkgvar default doc)
  if(NOT DEFINED CACHE{${var}})
    pkg_get_variable(value ${pkg} ${pkgvar})
    if(NOT value)
      set(value ${default})
    endif()
    string(REGEX REPLACE "/$" "" value "${value}")
    set(${var} "${value}" CACHE PATH "${doc}")
  endif()
  message(STATUS "${var}: ${${var}}")
endfunction()

iohealth_reader_dir(IOHEALTH_SYSTEMD_UNITDIR systemd systemdsystemunitdir /lib/systemd/system
  "systemd system units")
iohealth_reader_dir(IOHEALTH_SYSUSERSDIR systemd sysusersdir /usr/lib/sysusers.d
  "systemd-sysusers entries")
iohealth_reader_dir(IOHEALTH_CATALOGDIR systemd catalogdir /usr/lib/systemd/catalog
  "journald message catalog")
# dbus-1.pc names the data directory; dbus-daemon reads its system.d (and /etc/dbus-1/system.d).
iohealth_reader_dir(IOHEALTH_DBUS_DATADIR dbus-1 datadir /usr/share "dbus-daemon's data directory")
set(IOHEALTH_DBUS_POLICYDIR ${IOHEALTH_DBUS_DATADIR}/dbus-1/system.d)
set(IOHEALTH_DBUS_INTERFACESDIR ${IOHEALTH_DBUS_DATADIR}/dbus-1/interfaces)
iohealth_reader_dir(IOHEALTH_POLKIT_ACTIONDIR polkit-gobject-1 policydir
  /usr/share/polkit-1/actions "polkitd's action files")
iohealth_reader_dir(IOHEALTH_BASH_COMPLETIONSDIR bash-completion completionsdir
  /usr/share/bash-completion/completions "bash-completion's scripts")
# iohealthd reads /etc/iohealth (its unit's ConfigurationDirectory=), never a prefix's etc/.
set(IOHEALTH_CONFIGDIR /etc/iohealth)
