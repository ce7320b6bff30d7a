/*
 * JSON for QMP: node helpers, a parser and streamer for QEMU's JSON
 * dialect, and the wire-format serializer.
 *
 * The streamer lexes one byte at a time.  Tokens of the current top-level
 * value accumulate (their text in one buffer) until its braces and brackets
 * balance; then a recursive-descent parser turns the token list into a
 * JsonNode tree.  Like QEMU, braces and brackets are counted separately,
 * and a count going negative ends the value at once, so "{]" fails without
 * waiting for more input.
 *
 * The lexer only delimits strings, numbers and keywords; the parser
 * validates their contents.  A bad escape or number therefore costs one
 * error for a value whose extent is still known, and the next value parses.
 * A byte that cannot appear in any token is a lexical error: the pending
 * value is dropped with one error, and the lexer skips to a bracket or a
 * line ending.  Control characters other than TAB/CR/LF and the bytes
 * 0xfe/0xff never appear in valid input, so a client sends one to force
 * the parser back to a clean state (reference B.1); a run of them gives
 * one error.
 *
 * Limits (per value): nesting 1024, 2^21 tokens, 64 MiB of token text.  A
 * value over a limit gets one error, and its remaining tokens are lexed
 * only to find where it ends, without being stored.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qapi/qjson.h"

#define JSON_MAX_NESTING    1024
#define JSON_MAX_TOKENS     (1u << 21)
#define JSON_MAX_VALUE_SIZE (64u << 20)

/* Node constructors and predicates */

JsonNode *qjson_new_int(int64_t v)
{
    return json_node_init_int(json_node_alloc(), v);
}

JsonNode *qjson_new_uint(uint64_t v)
{
    JsonNode *n = json_node_init_int(json_node_alloc(), (int64_t)v);

    /* Sealing is the mark the serializer reads as "print unsigned". */
    json_node_seal(n);
    return n;
}

JsonNode *qjson_new_double(double v)
{
    return json_node_init_double(json_node_alloc(), v);
}

JsonNode *qjson_new_bool(bool v)
{
    return json_node_init_boolean(json_node_alloc(), v);
}

JsonNode *qjson_new_str(const char *s)
{
    return json_node_init_string(json_node_alloc(), s);
}

JsonNode *qjson_new_null(void)
{
    return json_node_init_null(json_node_alloc());
}

JsonNode *qjson_new_object(JsonObject *obj)
{
    JsonNode *n = json_node_init_object(json_node_alloc(), obj);

    json_object_unref(obj);
    return n;
}

JsonNode *qjson_new_array(JsonArray *arr)
{
    JsonNode *n = json_node_init_array(json_node_alloc(), arr);

    json_array_unref(arr);
    return n;
}

static bool qjson_is_value_of(JsonNode *n, GType type)
{
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == type;
}

bool qjson_is_int(JsonNode *n)
{
    return qjson_is_value_of(n, G_TYPE_INT64);
}

bool qjson_is_uint_node(JsonNode *n)
{
    return qjson_is_int(n) && json_node_is_immutable(n);
}

bool qjson_is_number(JsonNode *n)
{
    return qjson_is_int(n) || qjson_is_value_of(n, G_TYPE_DOUBLE);
}

bool qjson_is_bool(JsonNode *n)
{
    return qjson_is_value_of(n, G_TYPE_BOOLEAN);
}

bool qjson_is_str(JsonNode *n)
{
    return qjson_is_value_of(n, G_TYPE_STRING);
}

bool qjson_is_null(JsonNode *n)
{
    return n && JSON_NODE_HOLDS_NULL(n);
}

bool qjson_is_object(JsonNode *n)
{
    return n && JSON_NODE_HOLDS_OBJECT(n);
}

bool qjson_is_array(JsonNode *n)
{
    return n && JSON_NODE_HOLDS_ARRAY(n);
}

/* UTF-8 */

/*
 * Decodes the UTF-8 sequence at s (avail > 0 bytes).  Strings may hold
 * U+0000 in its "modified UTF-8" form C0 80, since C strings cannot hold a
 * NUL.  Returns the code point and its length in *len, or -1 for an invalid
 * sequence (overlong, surrogate, above U+10FFFF, truncated) with *len 1.
 */
static int32_t utf8_decode(const unsigned char *s, size_t avail, size_t *len)
{
    static const int32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    unsigned char c = s[0];
    size_t n;
    int32_t cp;

    *len = 1;
    if (c < 0x80) {
        return c;
    }
    if (c == 0xc0 && avail >= 2 && s[1] == 0x80) {
        *len = 2;
        return 0;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return -1;
    }
    if (avail < n) {
        return -1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }
    *len = n;
    return cp;
}

static void utf8_append(GString *out, uint32_t cp)
{
    if (cp == 0) {
        g_string_append_len(out, "\xc0\x80", 2);
    } else {
        g_string_append_unichar(out, cp);
    }
}

/* Serializer */

static void append_string(GString *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t avail = strlen(str);

    g_string_append_c(out, '"');
    while (avail) {
        size_t len;
        int32_t cp = utf8_decode(s, avail, &len);

        s += len;
        avail -= len;
        switch (cp) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\b':
            g_string_append(out, "\\b");
            break;
        case '\f':
            g_string_append(out, "\\f");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (cp < 0) {
                cp = 0xfffd;    /* invalid UTF-8: the replacement char */
            }
            if (cp >= 0x20 && cp <= 0x7e) {
                g_string_append_c(out, cp);
            } else if (cp >= 0x10000) {
                cp -= 0x10000;
                g_string_append_printf(out, "\\u%04X\\u%04X",
                                       0xd800 + (cp >> 10),
                                       0xdc00 + (cp & 0x3ff));
            } else {
                g_string_append_printf(out, "\\u%04X", cp);
            }
        }
    }
    g_string_append_c(out, '"');
}

/*
 * The shortest of %.15g..%.17g that reads back as the same double.
 * JSON has no infinity or NaN: those print as null.
 */
static void append_double(GString *out, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    static const char *const formats[] = { "%.15g", "%.16g", "%.17g" };

    if (!isfinite(v)) {
        g_string_append(out, "null");
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        g_ascii_formatd(buf, sizeof(buf), formats[i], v);
        if (g_ascii_strtod(buf, NULL) == v) {
            break;
        }
    }
    g_string_append(out, buf);
}

static void append_newline(GString *out, bool pretty, int indent)
{
    if (pretty) {
        g_string_append_printf(out, "\n%*s", indent * 4, "");
    }
}

static void append_node(GString *out, JsonNode *n, bool pretty, int indent)
{
    const char *sep = pretty ? "," : ", ";

    switch (JSON_NODE_TYPE(n)) {
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        break;
    case JSON_NODE_VALUE:
        switch (json_node_get_value_type(n)) {
        case G_TYPE_INT64:
            if (json_node_is_immutable(n)) {
                g_string_append_printf(out, "%" PRIu64,
                                       (uint64_t)json_node_get_int(n));
            } else {
                g_string_append_printf(out, "%" PRId64, json_node_get_int(n));
            }
            break;
        case G_TYPE_DOUBLE:
            append_double(out, json_node_get_double(n));
            break;
        case G_TYPE_BOOLEAN:
            g_string_append(out, json_node_get_boolean(n) ? "true" : "false");
            break;
        case G_TYPE_STRING:
            /* json_node_init_string(n, NULL) makes a NULL string */
            if (json_node_get_string(n)) {
                append_string(out, json_node_get_string(n));
            } else {
                g_string_append(out, "null");
            }
            break;
        default:
            g_string_append(out, "null");
        }
        break;
    case JSON_NODE_OBJECT: {
        JsonObject *obj = json_node_get_object(n);
        JsonObjectIter iter;
        const char *key;
        JsonNode *member;
        bool first = true;

        g_string_append_c(out, '{');
        if (obj) {
            json_object_iter_init_ordered(&iter, obj);
        }
        while (obj && json_object_iter_next_ordered(&iter, &key, &member)) {
            if (!first) {
                g_string_append(out, sep);
            }
            first = false;
            append_newline(out, pretty, indent + 1);
            append_string(out, key);
            g_string_append(out, ": ");
            append_node(out, member, pretty, indent + 1);
        }
        append_newline(out, pretty, indent);
        g_string_append_c(out, '}');
        break;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *arr = json_node_get_array(n);
        guint len = arr ? json_array_get_length(arr) : 0;

        g_string_append_c(out, '[');
        for (guint i = 0; i < len; i++) {
            if (i) {
                g_string_append(out, sep);
            }
            append_newline(out, pretty, indent + 1);
            append_node(out, json_array_get_element(arr, i), pretty,
                        indent + 1);
        }
        append_newline(out, pretty, indent);
        g_string_append_c(out, ']');
        break;
    }
    }
}

char *qjson_to_string(JsonNode *node, bool pretty)
{
    GString *out = g_string_new(NULL);

    if (node) {
        append_node(out, node, pretty, 0);
    } else {
        g_string_append(out, "null");
    }
    return g_string_free(out, false);
}

/* Tokens and the parser */

typedef enum JSONTokenType {
    TOK_LCURLY,
    TOK_RCURLY,
    TOK_LSQUARE,
    TOK_RSQUARE,
    TOK_COLON,
    TOK_COMMA,
    TOK_STRING,     /* text includes the quotes */
    TOK_NUMBER,
    TOK_KEYWORD,
} JSONTokenType;

typedef struct JSONToken {
    JSONTokenType type;
    uint32_t start;     /* offset of the text in the streamer's buffer */
    uint32_t len;
} JSONToken;

typedef struct JSONParser {
    const char *text;
    const JSONToken *tokens;
    size_t ntokens;
    size_t pos;
} JSONParser;

static void parse_error(Error **errp, const char *detail)
{
    error_setg(errp, "JSON parse error, %s", detail);
}

static const JSONToken *parser_peek(JSONParser *p)
{
    return p->pos < p->ntokens ? &p->tokens[p->pos] : NULL;
}

/* The next token; NULL (with errp set) at the end of the value's tokens. */
static const JSONToken *parser_next(JSONParser *p, Error **errp)
{
    const JSONToken *tok = parser_peek(p);

    if (!tok) {
        parse_error(errp, "premature EOI");
        return NULL;
    }
    p->pos++;
    return tok;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reads "\uXXXX" at s (at least avail bytes); -1 if it is not one. */
static int32_t parse_u_escape(const char *s, size_t avail)
{
    int32_t cp = 0;

    if (avail < 6 || s[0] != '\\' || s[1] != 'u') {
        return -1;
    }
    for (int i = 2; i < 6; i++) {
        int d = hex_digit(s[i]);

        if (d < 0) {
            return -1;
        }
        cp = (cp << 4) | d;
    }
    return cp;
}

/*
 * Decodes a string token.  The lexer guarantees the token starts and ends
 * with the same quote and that every backslash is followed by a byte
 * before the closing quote.
 */
static char *parse_string(JSONParser *p, const JSONToken *tok, Error **errp)
{
    const char *s = p->text + tok->start + 1;
    const char *end = p->text + tok->start + tok->len - 1;
    GString *out = g_string_sized_new(tok->len);

    while (s < end) {
        size_t len;
        int32_t cp;

        if (*s != '\\') {
            if (utf8_decode((const unsigned char *)s, end - s, &len) < 0) {
                parse_error(errp, "invalid UTF-8 sequence in string");
                goto fail;
            }
            g_string_append_len(out, s, len);
            s += len;
            continue;
        }
        switch (s[1]) {
        case '"':
        case '\'':
        case '\\':
        case '/':
            g_string_append_c(out, s[1]);
            s += 2;
            continue;
        case 'b':
            g_string_append_c(out, '\b');
            s += 2;
            continue;
        case 'f':
            g_string_append_c(out, '\f');
            s += 2;
            continue;
        case 'n':
            g_string_append_c(out, '\n');
            s += 2;
            continue;
        case 'r':
            g_string_append_c(out, '\r');
            s += 2;
            continue;
        case 't':
            g_string_append_c(out, '\t');
            s += 2;
            continue;
        case 'u':
            break;
        default:
            parse_error(errp, "invalid escape sequence in string");
            goto fail;
        }
        cp = parse_u_escape(s, end - s);
        if (cp < 0) {
            parse_error(errp, "invalid escape sequence in string");
            goto fail;
        }
        s += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            int32_t low = parse_u_escape(s, end - s);

            if (low < 0xdc00 || low > 0xdfff) {
                parse_error(errp, "unpaired surrogate in string");
                goto fail;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            s += 6;
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            parse_error(errp, "unpaired surrogate in string");
            goto fail;
        }
        utf8_append(out, cp);
    }
    return g_string_free(out, false);

fail:
    g_string_free(out, true);
    return NULL;
}

/*
 * JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * Integers become int nodes, or uint nodes above INT64_MAX; anything else
 * (fractions, exponents, integers beyond 64 bits) becomes a double.
 */
static JsonNode *parse_number(JSONParser *p, const JSONToken *tok,
                              Error **errp)
{
    const char *s = p->text + tok->start;
    const char *end = s + tok->len;
    const char *q = s;
    bool negative = false, integral = true, overflow = false;
    uint64_t mag = 0;
    double d;
    char *copy;

    if (q < end && *q == '-') {
        negative = true;
        q++;
    }
    if (q == end || !g_ascii_isdigit(*q) ||
        (*q == '0' && q + 1 < end && g_ascii_isdigit(q[1]))) {
        goto invalid;
    }
    for (; q < end && g_ascii_isdigit(*q); q++) {
        unsigned digit = *q - '0';

        if (mag > (UINT64_MAX - digit) / 10) {
            overflow = true;
        }
        mag = mag * 10 + digit;
    }
    if (q < end && *q == '.') {
        integral = false;
        if (++q == end || !g_ascii_isdigit(*q)) {
            goto invalid;
        }
        while (q < end && g_ascii_isdigit(*q)) {
            q++;
        }
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        integral = false;
        q++;
        if (q < end && (*q == '+' || *q == '-')) {
            q++;
        }
        if (q == end || !g_ascii_isdigit(*q)) {
            goto invalid;
        }
        while (q < end && g_ascii_isdigit(*q)) {
            q++;
        }
    }
    if (q != end) {
        goto invalid;
    }

    if (integral && !overflow) {
        if (!negative && mag <= INT64_MAX) {
            return qjson_new_int((int64_t)mag);
        }
        if (!negative) {
            return qjson_new_uint(mag);
        }
        if (mag <= (uint64_t)INT64_MAX + 1) {
            return qjson_new_int((int64_t)(0 - mag));
        }
    }
    copy = g_strndup(s, tok->len);
    d = g_ascii_strtod(copy, NULL);
    g_free(copy);
    if (!isfinite(d)) {
        parse_error(errp, "number out of range");
        return NULL;
    }
    return qjson_new_double(d);

invalid:
    parse_error(errp, "invalid number");
    return NULL;
}

static JsonNode *parse_keyword(JSONParser *p, const JSONToken *tok,
                               Error **errp)
{
    const char *s = p->text + tok->start;

    if (tok->len == 4 && !memcmp(s, "true", 4)) {
        return qjson_new_bool(true);
    }
    if (tok->len == 5 && !memcmp(s, "false", 5)) {
        return qjson_new_bool(false);
    }
    if (tok->len == 4 && !memcmp(s, "null", 4)) {
        return qjson_new_null();
    }
    error_setg(errp, "JSON parse error, invalid keyword '%.*s'",
               (int)MIN(tok->len, 32u), s);
    return NULL;
}

static JsonNode *parse_value(JSONParser *p, Error **errp);

/* After '{' */
static JsonNode *parse_object(JSONParser *p, Error **errp)
{
    JsonObject *obj = json_object_new();
    const JSONToken *tok = parser_peek(p);

    if (tok && tok->type == TOK_RCURLY) {
        p->pos++;
        return qjson_new_object(obj);
    }
    for (;;) {
        JsonNode *value;
        char *key;

        tok = parser_next(p, errp);
        if (!tok) {
            goto fail;
        }
        if (tok->type != TOK_STRING) {
            parse_error(errp, "key is not a string in object");
            goto fail;
        }
        key = parse_string(p, tok, errp);
        if (!key) {
            goto fail;
        }
        if (json_object_has_member(obj, key)) {
            g_free(key);
            parse_error(errp, "duplicate key");
            goto fail;
        }
        tok = parser_next(p, errp);
        if (tok && tok->type != TOK_COLON) {
            parse_error(errp, "missing : in object pair");
            tok = NULL;
        }
        value = tok ? parse_value(p, errp) : NULL;
        if (!value) {
            g_free(key);
            goto fail;
        }
        json_object_set_member(obj, key, value);
        g_free(key);

        tok = parser_next(p, errp);
        if (!tok) {
            goto fail;
        }
        if (tok->type == TOK_RCURLY) {
            return qjson_new_object(obj);
        }
        if (tok->type != TOK_COMMA) {
            parse_error(errp, "expected separator in dict");
            goto fail;
        }
        tok = parser_peek(p);
        if (tok && tok->type == TOK_RCURLY) {
            parse_error(errp, "stray ','");
            goto fail;
        }
    }

fail:
    json_object_unref(obj);
    return NULL;
}

/* After '[' */
static JsonNode *parse_array(JSONParser *p, Error **errp)
{
    JsonArray *arr = json_array_new();
    const JSONToken *tok = parser_peek(p);

    if (tok && tok->type == TOK_RSQUARE) {
        p->pos++;
        return qjson_new_array(arr);
    }
    for (;;) {
        JsonNode *value = parse_value(p, errp);

        if (!value) {
            goto fail;
        }
        json_array_add_element(arr, value);

        tok = parser_next(p, errp);
        if (!tok) {
            goto fail;
        }
        if (tok->type == TOK_RSQUARE) {
            return qjson_new_array(arr);
        }
        if (tok->type != TOK_COMMA) {
            parse_error(errp, "expected separator in array");
            goto fail;
        }
        tok = parser_peek(p);
        if (tok && tok->type == TOK_RSQUARE) {
            parse_error(errp, "stray ','");
            goto fail;
        }
    }

fail:
    json_array_unref(arr);
    return NULL;
}

/* Recursion depth is bounded by the streamer's nesting limit. */
static JsonNode *parse_value(JSONParser *p, Error **errp)
{
    const JSONToken *tok = parser_next(p, errp);

    if (!tok) {
        return NULL;
    }
    switch (tok->type) {
    case TOK_LCURLY:
        return parse_object(p, errp);
    case TOK_LSQUARE:
        return parse_array(p, errp);
    case TOK_STRING: {
        g_autofree char *str = parse_string(p, tok, errp);

        return str ? qjson_new_str(str) : NULL;
    }
    case TOK_NUMBER:
        return parse_number(p, tok, errp);
    case TOK_KEYWORD:
        return parse_keyword(p, tok, errp);
    default:
        parse_error(errp, "expecting value");
        return NULL;
    }
}

/* The streamer */

typedef enum JSONLexState {
    LEX_START,          /* between tokens */
    LEX_STRING,         /* in a string; s->quote closes it */
    LEX_STRING_ESCAPE,  /* after a backslash in a string */
    LEX_NUMBER,
    LEX_KEYWORD,
    LEX_RECOVERY,       /* after a lexical error: skipping to a resync byte */
} JSONLexState;

struct JSONStreamer {
    /* Called from inside feed and flush: it must not free the streamer. */
    JSONEmitFn *emit;
    void *opaque;

    JSONLexState state;
    unsigned char quote;
    /* Text and tokens of the current value (not stored when discarding). */
    GString *text;
    GArray *tokens;             /* of JSONToken */
    size_t token_start;         /* offset of the token being lexed */
    int brace_count;
    int bracket_count;
    /*
     * The current value broke a limit and was reported: lex the rest of it
     * only to find where it ends.
     */
    bool discarding;
    /*
     * After a lexical error inside a value, the number of closing brackets
     * of that value still to come: swallowed instead of each giving an
     * error of its own.
     */
    unsigned orphan_closers;
};

JSONStreamer *json_streamer_new(JSONEmitFn *emit, void *opaque)
{
    JSONStreamer *s = g_new0(JSONStreamer, 1);

    s->emit = emit;
    s->opaque = opaque;
    s->text = g_string_new(NULL);
    s->tokens = g_array_new(false, false, sizeof(JSONToken));
    return s;
}

void json_streamer_free(JSONStreamer *s)
{
    if (!s) {
        return;
    }
    g_string_free(s->text, true);
    g_array_free(s->tokens, true);
    g_free(s);
}

static void streamer_reset_value(JSONStreamer *s)
{
    /* Do not keep a buffer sized for a huge value forever. */
    if (s->text->allocated_len > 65536) {
        g_string_free(s->text, true);
        s->text = g_string_new(NULL);
    } else {
        g_string_truncate(s->text, 0);
    }
    if (s->tokens->len > 4096) {
        g_array_free(s->tokens, true);
        s->tokens = g_array_new(false, false, sizeof(JSONToken));
    } else {
        g_array_set_size(s->tokens, 0);
    }
    s->brace_count = 0;
    s->bracket_count = 0;
    s->discarding = false;
}

static void streamer_emit_error(JSONStreamer *s, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static void streamer_emit_error(JSONStreamer *s, const char *fmt, ...)
{
    Error *err = NULL;
    va_list ap;

    va_start(ap, fmt);
    error_vset(&err, ERROR_CLASS_GENERIC_ERROR, fmt, ap);
    va_end(ap);
    s->emit(s->opaque, NULL, err);
}

/* Tokens complete a value: parse it and hand it over. */
static void streamer_complete_value(JSONStreamer *s)
{
    JSONParser p = {
        .text = s->text->str,
        .tokens = (const JSONToken *)s->tokens->data,
        .ntokens = s->tokens->len,
    };
    Error *err = NULL;
    JsonNode *value = parse_value(&p, &err);

    if (value && p.pos < p.ntokens) {
        json_node_unref(value);
        value = NULL;
        parse_error(&err, "unexpected token after value");
    }
    streamer_reset_value(s);
    s->emit(s->opaque, value, err);
}

/* The current value exceeds a limit: report it and discard the rest. */
static void streamer_limit_error(JSONStreamer *s, const char *what)
{
    int braces = s->brace_count, brackets = s->bracket_count;

    streamer_reset_value(s);
    s->brace_count = braces;
    s->bracket_count = brackets;
    s->discarding = true;
    streamer_emit_error(s, "JSON parse error, %s limit exceeded", what);
}

/*
 * A byte that no token can hold: drop the value and skip to a resync
 * point.  After a reset byte (a control, 0xfe, 0xff: the client's way to
 * resynchronise) the client is not expected to finish the value; after
 * other junk, the closing brackets of the dropped value are swallowed.
 */
static void streamer_lex_error(JSONStreamer *s, unsigned char c)
{
    bool reset = c < 0x20 || c >= 0xfe;
    bool in_string = s->state == LEX_STRING || s->state == LEX_STRING_ESCAPE;
    bool reported = s->discarding;
    int depth = MAX(s->brace_count, 0) + MAX(s->bracket_count, 0);
    char repr[8];

    streamer_reset_value(s);
    s->state = LEX_RECOVERY;
    s->orphan_closers = reset ? 0 : depth;
    if (reported) {
        return;
    }
    if (c >= 0x20 && c < 0x7f) {
        snprintf(repr, sizeof(repr), "%c", c);
    } else {
        snprintf(repr, sizeof(repr), "\\x%02x", c);
    }
    if (in_string) {
        streamer_emit_error(s, "JSON parse error, invalid character '%s' "
                            "in string", repr);
    } else {
        streamer_emit_error(s, "JSON parse error, stray '%s'", repr);
    }
}

static void streamer_begin_token(JSONStreamer *s)
{
    s->token_start = s->text->len;
}

static void streamer_append(JSONStreamer *s, unsigned char c)
{
    if (s->discarding) {
        return;
    }
    if (s->text->len >= JSON_MAX_VALUE_SIZE) {
        streamer_limit_error(s, "value size");
        return;
    }
    g_string_append_c(s->text, c);
}

static void streamer_end_token(JSONStreamer *s, JSONTokenType type)
{
    bool closer = type == TOK_RCURLY || type == TOK_RSQUARE;

    if (s->orphan_closers && !s->discarding && s->tokens->len == 0) {
        if (closer) {
            g_string_truncate(s->text, 0);
            if (--s->orphan_closers) {
                s->state = LEX_RECOVERY;
            }
            return;
        }
        s->orphan_closers = 0;
    }

    switch (type) {
    case TOK_LCURLY:
        s->brace_count++;
        break;
    case TOK_RCURLY:
        s->brace_count--;
        break;
    case TOK_LSQUARE:
        s->bracket_count++;
        break;
    case TOK_RSQUARE:
        s->bracket_count--;
        break;
    default:
        break;
    }

    if (!s->discarding) {
        if (s->tokens->len >= JSON_MAX_TOKENS) {
            streamer_limit_error(s, "token count");
        } else if (s->brace_count + s->bracket_count > JSON_MAX_NESTING) {
            streamer_limit_error(s, "nesting depth");
        } else {
            JSONToken tok = {
                .type = type,
                .start = s->token_start,
                .len = s->text->len - s->token_start,
            };

            g_array_append_val(s->tokens, tok);
        }
    }

    if (s->brace_count < 0 || s->bracket_count < 0 ||
        (s->brace_count == 0 && s->bracket_count == 0)) {
        if (s->discarding) {
            streamer_reset_value(s);
        } else {
            streamer_complete_value(s);
        }
    }
}

static bool is_number_char(unsigned char c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '+' || c == '-';
}

static bool is_keyword_char(unsigned char c)
{
    return g_ascii_isalnum(c) || c == '_';
}

static void streamer_feed_byte(JSONStreamer *s, unsigned char c)
{
    static const char structural[] = "{}[]:,";
    static const JSONTokenType structural_type[] = {
        TOK_LCURLY, TOK_RCURLY, TOK_LSQUARE, TOK_RSQUARE, TOK_COLON, TOK_COMMA,
    };
    const char *p;

again:
    switch (s->state) {
    case LEX_START:
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            return;
        }
        streamer_begin_token(s);
        if (c && (p = strchr(structural, c))) {
            streamer_append(s, c);
            streamer_end_token(s, structural_type[p - structural]);
        } else if (c == '"' || c == '\'') {
            streamer_append(s, c);
            s->quote = c;
            s->state = LEX_STRING;
        } else if (c == '-' || g_ascii_isdigit(c)) {
            streamer_append(s, c);
            s->state = LEX_NUMBER;
        } else if (g_ascii_isalpha(c)) {
            streamer_append(s, c);
            s->state = LEX_KEYWORD;
        } else {
            streamer_lex_error(s, c);
        }
        return;

    case LEX_STRING:
    case LEX_STRING_ESCAPE:
        /* Raw control characters are not allowed in strings either. */
        if (c < 0x20 || c >= 0xfe) {
            streamer_lex_error(s, c);
            return;
        }
        streamer_append(s, c);
        if (s->state == LEX_STRING_ESCAPE) {
            s->state = LEX_STRING;
        } else if (c == '\\') {
            s->state = LEX_STRING_ESCAPE;
        } else if (c == s->quote) {
            s->state = LEX_START;
            streamer_end_token(s, TOK_STRING);
        }
        return;

    case LEX_NUMBER:
    case LEX_KEYWORD:
        if (s->state == LEX_NUMBER ? is_number_char(c) : is_keyword_char(c)) {
            streamer_append(s, c);
            return;
        }
        /* The byte after the token belongs to what follows. */
        {
            JSONTokenType type = s->state == LEX_NUMBER ? TOK_NUMBER
                                                        : TOK_KEYWORD;

            s->state = LEX_START;
            streamer_end_token(s, type);
        }
        goto again;

    case LEX_RECOVERY:
        if (c == '\r' || c == '\n') {
            s->state = LEX_START;
        } else if (c < 0x20 || c >= 0xfe) {
            s->orphan_closers = 0;          /* the client reset */
        } else if (strchr("{}[]", c)) {
            s->state = LEX_START;
            goto again;
        }
        return;
    }
}

void json_streamer_feed(JSONStreamer *s, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        streamer_feed_byte(s, buf[i]);
    }
}

void json_streamer_flush(JSONStreamer *s)
{
    switch (s->state) {
    case LEX_NUMBER:
        s->state = LEX_START;
        streamer_end_token(s, TOK_NUMBER);
        break;
    case LEX_KEYWORD:
        s->state = LEX_START;
        streamer_end_token(s, TOK_KEYWORD);
        break;
    case LEX_STRING:
    case LEX_STRING_ESCAPE:
        if (!s->discarding) {
            streamer_emit_error(s, "JSON parse error, premature EOI");
        }
        streamer_reset_value(s);
        break;
    case LEX_START:
    case LEX_RECOVERY:
        break;
    }
    s->state = LEX_START;
    s->orphan_closers = 0;
    if (s->discarding) {
        streamer_reset_value(s);
    } else if (s->tokens->len) {
        streamer_complete_value(s);     /* reports the syntax error */
    }
}

/* qjson_parse() */

typedef struct ParseOne {
    JsonNode *value;
    Error *err;
    unsigned count;
} ParseOne;

static void parse_one_emit(void *opaque, JsonNode *value, Error *err)
{
    ParseOne *one = opaque;

    if (one->count++ == 0) {
        one->value = value;
        one->err = err;
        return;
    }
    if (value) {
        json_node_unref(value);
    }
    error_free(err);
}

JsonNode *qjson_parse(const char *str, Error **errp)
{
    ParseOne one = { 0 };
    JSONStreamer *s = json_streamer_new(parse_one_emit, &one);

    json_streamer_feed(s, str, strlen(str));
    json_streamer_flush(s);
    json_streamer_free(s);

    if (one.err) {
        error_propagate(errp, one.err);
        return NULL;
    }
    if (!one.count) {
        error_setg(errp, "JSON parse error, expecting value");
        return NULL;
    }
    if (one.count > 1) {
        json_node_unref(one.value);
        error_setg(errp, "JSON parse error, expecting end of input after "
                   "value");
        return NULL;
    }
    return one.value;
}
