/* A fresh flash image for a test: a file in its own temporary directory
 * (tmpfs where there is one: power-cut sweeps sync thousands of times),
 * opened as the board's flash, removed afterwards. */
#ifndef TEST_FLASH_IMAGE_H
#define TEST_FLASH_IMAGE_H

#include "test.h"

/* Creates and opens the image; 0, or -1 with the test failed. */
int flash_image_create(void);
/* Closes the image and removes it and its directory. */
void flash_image_remove(void);
const char *flash_image_path(void);

/* Runs body with a fresh open image, removed afterwards even when a CHECK
 * in body fails. */
void flash_image_run(void (*body)(void));

#define FLASH_TEST(name)                                                       \
    static void name##_body(void);                                             \
    MG_TEST(name) { flash_image_run(name##_body); }                            \
    static void name##_body(void)

#endif
