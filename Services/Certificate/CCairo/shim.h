#ifndef ONESEAL_CCAIRO_SHIM_H
#define ONESEAL_CCAIRO_SHIM_H
// cairo draws the printable licence (PDF, PNG, SVG surfaces; text through fontconfig).
#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#endif
