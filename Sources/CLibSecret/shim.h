#ifndef CLIBSECRET_SHIM_H
#define CLIBSECRET_SHIM_H
/* The D-Bus path functions (secret-paths.h) read an item without creating a proxy object for it. */
#define SECRET_API_SUBJECT_TO_CHANGE 1
#include <libsecret/secret.h>
#endif
