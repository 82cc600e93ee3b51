#ifndef CLIBGCRYPT_SHIM_H
#define CLIBGCRYPT_SHIM_H
#include <gcrypt.h>
#endif
