/* Project-wide error codes: 0 is success, every failure is one negative value
 * from this enum (STYLE.md "Errors are values"). Each layer maps the codes it
 * receives to its own meaning once, at its edge. */
#ifndef MG_ERR_H
#define MG_ERR_H

enum mg_err {
    MG_OK           = 0,
    MG_ERR_INVAL    = -1,   /* malformed input */
    MG_ERR_NOSPC    = -2,   /* a pool, table or partition is full */
    MG_ERR_NOENT    = -3,   /* no such item (never written) */
    MG_ERR_CORRUPT  = -4,   /* present but fails CRC, decryption or verification */
    MG_ERR_AUTH     = -5,   /* signature, MAC or key check failed */
    MG_ERR_IO       = -6,   /* the device or the OS refused */
    MG_ERR_CRYPTO   = -7,   /* a primitive failed or refused its input */
    MG_ERR_TOOBIG   = -8,   /* input over a size limit */
    MG_ERR_AGAIN    = -9,   /* not now: retry from poll */
    MG_ERR_TIMEOUT  = -10,
    MG_ERR_EXIST    = -11,  /* already there */
    MG_ERR_PERM     = -12,  /* policy refuses */
    MG_ERR_KEY      = -13,  /* wrong root key */
};

/* A short, stable, lowercase name for an error code ("nospc"), for logs. */
const char *mg_strerror(int err);

#endif
