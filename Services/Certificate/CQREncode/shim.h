#ifndef ONESEAL_CQRENCODE_SHIM_H
#define ONESEAL_CQRENCODE_SHIM_H
// libqrencode encodes the verification QR code printed on the licence.
#include <qrencode.h>
#endif
