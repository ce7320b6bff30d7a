/*
 * Command-line option strings, QEMU's "key=value,..." syntax:
 *
 *   edu,addr=03.0,id=x    (implied key "driver")
 *   -> {"driver": "edu", "addr": "03.0", "id": "x"}
 *
 * Values are strings; ",," inside a value is a literal comma.  Only the
 * first item may omit "key=", and only when there is an implied key: it is
 * then that key's value.  When help is not NULL, *help says whether an
 * item "help" or "?" without "=" was given (such items are not members; otherwise a first item "help" is the
 * implied key's value and a later one an error).  Keys are made of
 * letters, digits, '-', '_' and '.' (taken literally, no nesting); an empty
 * or ill-formed key, a missing "=", or a key given twice is an error
 * naming the parameter.  A trailing comma is accepted.
 */
#ifndef UTIL_KEYVAL_H
#define UTIL_KEYVAL_H

#include <stdbool.h>
#include <json-glib/json-glib.h>

#include "qapi/error.h"

/* Returns a new object of string members, or NULL with errp set. */
JsonObject *keyval_parse(const char *params, const char *implied_key,
                         bool *help, Error **errp);

/*
 * Parses params into obj, replacing members obj already has (so repeated
 * options merge, the later winning); a key twice within params is still
 * an error.  On failure obj is unchanged.
 */
bool keyval_parse_into(JsonObject *obj, const char *params,
                       const char *implied_key, bool *help, Error **errp);

#endif
