/* meshctl as a Signal client of a relay (PROTOCOLS.md section 1): an
 * identity and its prekeys in a local store, registration (signed as the
 * relay's signed mode wants), chat messages and telemetry reports.
 *
 * The store is the firmware's own keystore (crypto/keystore.h) in a flash
 * image file of the board's geometry, AES-256-GCM under a random root key:
 * FILE is the image, FILE.key the root key (key=<hex>, mode 0600), FILE.id
 * the relay id. Sessions live in the keystore like the gateway's. */
#ifndef MESHCTL_SIGNAL_CMD_H
#define MESHCTL_SIGNAL_CMD_H

/* argv[0] is the first argument after the command name; the exit status. */
int meshctl_init(int argc, char **argv);
int meshctl_register(int argc, char **argv);
int meshctl_send(int argc, char **argv);
int meshctl_listen(int argc, char **argv);
int meshctl_telemetry(int argc, char **argv);

#endif
