#include "mg_err.h"

const char *mg_strerror(int err)
{
    switch (err) {
    case MG_OK:          return "ok";
    case MG_ERR_INVAL:   return "invalid";
    case MG_ERR_NOSPC:   return "no space";
    case MG_ERR_NOENT:   return "missing";
    case MG_ERR_CORRUPT: return "corrupt";
    case MG_ERR_AUTH:    return "authentication failed";
    case MG_ERR_IO:      return "i/o error";
    case MG_ERR_CRYPTO:  return "crypto error";
    case MG_ERR_TOOBIG:  return "too big";
    case MG_ERR_AGAIN:   return "try again";
    case MG_ERR_TIMEOUT: return "timeout";
    case MG_ERR_EXIST:   return "exists";
    case MG_ERR_PERM:    return "not permitted";
    case MG_ERR_KEY:     return "wrong key";
    default:             return "unknown error";
    }
}
