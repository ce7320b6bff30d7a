/*
 * JSON values for QMP and QAPI.
 *
 * Values are json-glib JsonNode trees.  json-glib stores every integer as a
 * gint64; an unsigned value above INT64_MAX is kept as its two's complement
 * bit pattern in a *sealed* (immutable) node, and the serializer prints a
 * sealed integer node as unsigned.  qjson_new_uint() is the only way such a
 * node is made, and the parser makes one for literals above INT64_MAX, so
 * unsigned values survive a round trip.
 */
#ifndef QAPI_QJSON_H
#define QAPI_QJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-glib/json-glib.h>

#include "qapi/error.h"

JsonNode *qjson_new_int(int64_t v);
JsonNode *qjson_new_uint(uint64_t v);
JsonNode *qjson_new_double(double v);
JsonNode *qjson_new_bool(bool v);
JsonNode *qjson_new_str(const char *s);
JsonNode *qjson_new_null(void);
/* Takes ownership of obj/arr. */
JsonNode *qjson_new_object(JsonObject *obj);
JsonNode *qjson_new_array(JsonArray *arr);

bool qjson_is_int(JsonNode *n);      /* an integer literal */
bool qjson_is_uint_node(JsonNode *n); /* made by qjson_new_uint */
bool qjson_is_number(JsonNode *n);   /* integer or double */
bool qjson_is_bool(JsonNode *n);
bool qjson_is_str(JsonNode *n);
bool qjson_is_null(JsonNode *n);
bool qjson_is_object(JsonNode *n);
bool qjson_is_array(JsonNode *n);

/*
 * Parses exactly one JSON value from str (QEMU's JSON dialect: also
 * 'single-quoted' strings and the \' escape).  Errors are
 * "JSON parse error, <detail>".
 */
JsonNode *qjson_parse(const char *str, Error **errp);

/*
 * QEMU's wire format: ASCII only (non-ASCII as \uXXXX with uppercase hex and
 * surrogate pairs), ": " after keys and ", " between members.  With pretty,
 * QEMU's indented form.  Object members keep their insertion order.
 */
char *qjson_to_string(JsonNode *node, bool pretty);

/*
 * Streaming parser for a connection: bytes in, complete top-level values
 * out.  Values may be split across or packed into feeds.  A lexical or
 * syntax error emits one error (value NULL) and resets the parser so that
 * the next value parses; a control character other than TAB/CR/LF, or 0xff,
 * forces such a reset.  Limits: nesting 1024, 2^21 tokens, 64 MiB per value.
 * emit receives ownership of value and err.
 */
typedef struct JSONStreamer JSONStreamer;
typedef void JSONEmitFn(void *opaque, JsonNode *value, Error *err);

JSONStreamer *json_streamer_new(JSONEmitFn *emit, void *opaque);
void json_streamer_feed(JSONStreamer *s, const char *buf, size_t len);
/* End of input: a partial value becomes an error ("premature EOI"). */
void json_streamer_flush(JSONStreamer *s);
void json_streamer_free(JSONStreamer *s);

#endif
