#ifndef ONESEAL_CLIBPQ_SHIM_H
#define ONESEAL_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
