/* The keystore at boot and on the console (DESIGN.md sections 1 and 6):
 * opens the flash and the keystore, provisions a development board's root
 * secret on a fresh device, generates missing keys durably before any
 * service starts, and offers `keys`, `keys reset`, `flash` and
 * `factory-reset`. */
#ifndef KEYS_SERVICE_H
#define KEYS_SERVICE_H

#include "loop.h"

/* The flash image (default BOARD_FLASH_PATH); the string is kept. */
void keys_set_flash_path(const char *path);

/* Runs at init, before the network and the services: never fails the
 * boot. What went wrong is logged, and the key states tell the services. */
void keys_boot(void);

extern const struct service keys_service;

#endif
