#ifndef CLIBSYSTEMD_SHIM_H
#define CLIBSYSTEMD_SHIM_H
/* sd-bus: the D-Bus client library of libsystemd. */
#include <systemd/sd-bus.h>
#endif
