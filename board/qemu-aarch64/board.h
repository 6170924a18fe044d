/* Board qemu-aarch64: aarch64. Every fixed size in the firmware comes from here. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME              "qemu-aarch64"
#define BOARD_ARCH              "aarch64"

/* Network: the TAP device the firmware attaches to, and its static address. */
#define BOARD_TAP_NAME          "mg0"
#define BOARD_IP_ADDR           "10.42.0.2"
#define BOARD_IP_NETMASK        "255.255.255.0"
#define BOARD_IP_GATEWAY        "10.42.0.1"

/* Default ports (PROTOCOLS.md). */
#define BOARD_PORT_RELAY        8080
#define BOARD_PORT_CONTROL      8444
#define BOARD_PORT_COORD        8190
#define BOARD_PORT_PEER         9632

/* Console UART: "-" is the process's stdin/stdout. */
#define BOARD_UART_PATH         "-"

/* Flash: NOR geometry and partitions (byte offsets into the device). */
#define BOARD_FLASH_PATH        "flash.img"
#define BOARD_SECRET_PATH       "device.key"   /* root secret (hal/sys.h) */
#define BOARD_FLASH_SECTOR      4096u
#define BOARD_FLASH_SIZE        (2048 * 1024u)
#define BOARD_PART_KEYS_OFF     0u
#define BOARD_PART_KEYS_SIZE    (64u * 1024u)
#define BOARD_PART_REGISTRY_OFF (64u * 1024u)
#define BOARD_PART_REGISTRY_SIZE (64u * 1024u)
#define BOARD_PART_MAILBOX_OFF  (128u * 1024u)
#define BOARD_PART_MAILBOX_SIZE (BOARD_FLASH_SIZE - BOARD_PART_MAILBOX_OFF)

/* Pools. */
#define BOARD_HTTP_CONNS        96      /* 64 WebSocket recipients and their senders */
#define BOARD_HTTP_HDR_MAX      4096
#define BOARD_HTTP_BODY_MAX     (64 * 1024)
#define BOARD_RELAY_USERS       256
#define BOARD_RELAY_MESSAGES    4096
#define BOARD_RELAY_ONETIME     16      /* one-time prekeys kept per bundle */
#define BOARD_RELAY_AUTH_SLOTS  1024    /* signatures remembered for the replay window */
#define BOARD_NONCE_SLOTS       1024
#define BOARD_CONFIG_SENDERS    256     /* identity.allowed_senders of a pushed config */
#define BOARD_DELIVERY_SLOTS    1024    /* delivery tracking, 24 h */
#define BOARD_RELAY_ENVELOPE_MAX (32 * 1024) /* largest envelope body a config may allow */
#define BOARD_PEERS             16
#define BOARD_REPL_QUEUE        512     /* outbound replica pushes (PROTOCOLS.md 5), journaled */
#define BOARD_REPL_ACKS         256     /* acks still to tell the peers, RAM only */
#define BOARD_REPL_TOMBSTONES   1024    /* acked msg_ids kept to refuse a late replica */
#define BOARD_REPL_REPLAY       256     /* signed acks remembered for the replay window */
#define BOARD_COORD_ROLE        0       /* coordinator role (PROTOCOLS.md 3) on without a config */
#define BOARD_COORD_NODES       64      /* registered nodes, any status */
#define BOARD_COORD_SERVICES    4       /* services per node */
#define BOARD_COORD_SOVEREIGNS  8       /* sovereign keys that approve nodes */
#define BOARD_SIGNAL_PREKEYS    64      /* one-time prekeys kept in the keystore */
#define BOARD_SIGNAL_SESSIONS   8       /* Signal peers with a session (keystore slots) */
#define BOARD_SIGNAL_MAX_SKIP   4       /* messages a peer may skip ahead in one chain:
                                           ~90 bytes each in the session slot */
#define BOARD_SIGNAL_MESSAGE_MAX 5120   /* plaintext bytes of one Signal message: a
                                           telemetry report (about 4 KB) and its growth;
                                           its envelope stays under the relay's 8192 */
#define BOARD_TELEMETRY_REPORT_MAX BOARD_SIGNAL_MESSAGE_MAX /* one report, as one Signal message */
#define BOARD_TELEMETRY_RETRY_MS 2000   /* a held report is tried again this often */
#define BOARD_KDF_ITERATIONS    100000u /* PBKDF2 rounds for a passphrase root secret */

/* Static arenas for third-party code that allocates. */
#define BOARD_MBEDTLS_ARENA     (48 * 1024)
/* Signal: measured 30.0 KB at most on x86_64 (tests/unit/test_signal.c: prekey
 * and whisper decrypt of a BOARD_SIGNAL_MESSAGE_MAX message with
 * BOARD_SIGNAL_MAX_SKIP skipped keys), plus a margin. */
#define BOARD_SIGNAL_ARENA      (40 * 1024)

#endif /* BOARD_H */
