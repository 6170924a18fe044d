/* The firmware's own figures (loop, pools, heap, network) as JSON, for
 * /diagnostics, the console and telemetry. */
#ifndef DIAG_H
#define DIAG_H

#include "textbuf.h"

/* Appends a JSON object {"version",...,"loop":{},"heap":{},"pools":[],...}. */
void diag_firmware_json(struct textbuf *b);

#endif
