#ifndef CLIBMD_SHIM_H
#define CLIBMD_SHIM_H
/* libmd: the BSD message digests (dpkg's own); SHA-256 without any library start-up. */
#include <stdint.h>
#include <stddef.h>
#include <sha2.h>
#endif
