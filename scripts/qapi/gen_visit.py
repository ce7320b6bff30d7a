"""qapi-visit.h/.c: conversion between the C types and JSON (JsonNode).

Input checking follows QEMU's QObject input visitor, so that QMP clients
see the same error messages (reference B.3).
"""

from .common import CFile, c_string
from .gen_types import (QTYPE_OF_CATEGORY, builtin_list_types, enum_const,
                        enum_max, list_types_for)
from .schema import (AlternateType, ArrayType, BuiltinType, EnumType,
                     ObjectType)


def vname(t):
    """The name in visit_<name>_from_json / _to_json for type t."""
    if isinstance(t, BuiltinType):
        return t.name
    return t.c_name()


_HEADER_INTRO = '''\
/*
 * Every type Foo of the schema (and FooList) has:
 *
 *   bool visit_Foo_from_json(JsonNode *node, const char *name, T *out,
 *                            Error **errp);
 *   JsonNode *visit_Foo_to_json(const-T value);
 *
 * where T is how a member of type Foo is held (see qapi-types.h): Foo *
 * for structs, unions, alternates (out is then Foo **), FooList * for
 * lists, Foo for enums, char * for str, int64_t for int, and so on.
 * from_json never takes over node; on failure it sets errp, stores nothing
 * that needs freeing in *out and returns false.  name is the path of the
 * value in the enclosing input ("arg", "arg.member", "arg[2]"), used in
 * error messages; NULL for the root.  to_json returns a new node; strings
 * are passed as const char *, structs as const Foo *.
 *
 * A struct or union Foo also has
 *
 *   bool visit_Foo_members_from_json(JsonObject *o, const char *name,
 *                                    Foo *obj, Error **errp);
 *   void visit_Foo_members_to_json(JsonObject *o, const Foo *obj);
 *
 * which fill a caller-provided zeroed *obj from the members of o (and
 * reject members that are not Foo's), and add obj's members to o.  After
 * a failed _members_from_json the caller frees what *obj holds.
 */

'''


# -- objects ---------------------------------------------------------------

def _member_in(m):
    name = c_string(m.name)
    out = '    n = json_object_get_member(o, %s);\n    if (n) {\n' % name
    out += '        g_autofree char *path = qapi_path(name, %s);\n\n' % name
    if m.optional and not m.type.is_pointer():
        out += '        obj->has_%s = true;\n' % m.c_name()
    out += ('        if (!visit_%s_from_json(n, path, &obj->%s, errp)) {\n'
            '            return false;\n        }\n    }'
            % (vname(m.type), m.c_name()))
    if m.optional:
        return out + '\n'
    return out + (' else {\n        qapi_error_missing(errp, name, %s);\n'
                  '        return false;\n    }\n' % name)


def _member_out(m):
    put = 'json_object_set_member(o, %s, visit_%s_to_json(obj->%s));' % (
        c_string(m.name), vname(m.type), m.c_name())
    if not m.optional:
        return '    %s\n' % put
    cond = 'obj->%s' % m.c_name() if m.type.is_pointer() \
        else 'obj->has_%s' % m.c_name()
    return '    if (%s) {\n        %s\n    }\n' % (cond, put)


def _tag_switch(obj, case_fmt):
    out = '    switch (obj->%s) {\n' % obj.tag_member.c_name()
    for v in obj.variants:
        out += '    case %s:\n%s' % (
            enum_const(obj.tag_member.type, v.name),
            case_fmt % {'type': v.type.c_name(), 'branch': v.c_name()})
    return out + '    default:\n        break;\n    }\n'


def _object_protos(obj):
    n = obj.c_name()
    return ('static bool %s_fields_from_json(JsonObject *o, const char *name,'
            ' %s *obj, Error **errp);\n'
            'static bool %s_knows(const void *opaque, const char *key);\n'
            % (n, n, n))


def _object_defs(obj):
    n = obj.c_name()
    members = obj.all_members()
    out = 'static const char *const %s_names[] = {\n' % n
    for m in members:
        out += '    %s,\n' % c_string(m.name)
    out += '    NULL,\n};\n\n'

    out += ('static bool %s_fields_from_json(JsonObject *o, const char *name,'
            ' %s *obj, Error **errp)\n{\n' % (n, n))
    if members:
        out += '    JsonNode *n;\n\n'
    for m in members:
        out += _member_in(m)
    if obj.variants:
        out += _tag_switch(obj, '        if (!%(type)s_fields_from_json('
                                'o, name, &obj->u.%(branch)s, errp)) {\n'
                                '            return false;\n        }\n'
                                '        break;\n')
    out += '    return true;\n}\n\n'

    out += ('static bool %s_knows(const void *opaque, const char *key)\n{\n'
            % n)
    if obj.variants:
        out += '    const %s *obj = opaque;\n\n' % n
    out += '    if (qapi_name_in(key, %s_names)) {\n        return true;\n' \
           '    }\n' % n
    if obj.variants:
        out += _tag_switch(obj, '        return %(type)s_knows('
                                '&obj->u.%(branch)s, key);\n')
    else:
        out += '    (void)opaque;\n'
    out += '    return false;\n}\n\n'

    out += ('bool visit_%s_members_from_json(JsonObject *o, const char *name,'
            ' %s *obj, Error **errp)\n{\n'
            '    return %s_fields_from_json(o, name, obj, errp) &&\n'
            '           qapi_check_unexpected(o, name, %s_knows, obj, errp);'
            '\n}\n\n' % (n, n, n, n))

    out += ('void visit_%s_members_to_json(JsonObject *o, const %s *obj)\n{\n'
            % (n, n))
    for m in members:
        out += _member_out(m)
    if obj.variants:
        out += _tag_switch(obj, '        visit_%(type)s_members_to_json('
                                'o, &obj->u.%(branch)s);\n        break;\n')
    if not members and not obj.variants:
        out += '    (void)o;\n    (void)obj;\n'
    out += '}\n\n'

    out += ('bool visit_%s_from_json(JsonNode *node, const char *name, '
            '%s **out, Error **errp)\n{\n    %s *obj;\n\n    *out = NULL;\n'
            '    if (!qapi_check_qtype(node, name, QTYPE_QDICT, errp)) {\n'
            '        return false;\n    }\n'
            '    obj = g_new0(%s, 1);\n'
            '    if (!visit_%s_members_from_json(json_node_get_object(node), '
            'name, obj, errp)) {\n'
            '        qapi_free_%s(obj);\n        return false;\n    }\n'
            '    *out = obj;\n    return true;\n}\n\n' % (n, n, n, n, n, n))

    out += ('JsonNode *visit_%s_to_json(const %s *obj)\n{\n'
            '    JsonObject *o = json_object_new();\n\n'
            '    g_assert(obj);\n'
            '    visit_%s_members_to_json(o, obj);\n'
            '    return qjson_new_object(o);\n}\n\n' % (n, n, n))
    return out


def _object_decls(obj):
    n = obj.c_name()
    return ('bool visit_%s_members_from_json(JsonObject *o, const char *name, '
            '%s *obj,\n    Error **errp);\n'
            'void visit_%s_members_to_json(JsonObject *o, const %s *obj);\n'
            'bool visit_%s_from_json(JsonNode *node, const char *name, '
            '%s **out,\n    Error **errp);\n'
            'JsonNode *visit_%s_to_json(const %s *obj);\n\n'
            % (n, n, n, n, n, n, n, n))


# -- enums, alternates, lists --------------------------------------------------

def _enum_decls(enum):
    n = enum.c_name()
    return ('bool visit_%s_from_json(JsonNode *node, const char *name, %s *out,'
            '\n    Error **errp);\nJsonNode *visit_%s_to_json(%s value);\n\n'
            % (n, n, n, n))


def _enum_defs(enum):
    n = enum.c_name()
    return ('bool visit_%s_from_json(JsonNode *node, const char *name, %s *out,'
            ' Error **errp)\n{\n    int value;\n\n'
            '    if (!qapi_enum_from_json(node, name, %s_lookup, &value, errp))'
            ' {\n        return false;\n    }\n    *out = value;\n'
            '    return true;\n}\n\n'
            'JsonNode *visit_%s_to_json(%s value)\n{\n'
            '    return qapi_enum_to_json(%s_lookup, %s, value);\n}\n\n'
            % (n, n, n, n, n, n, enum_max(enum)))


def _is_null(t):
    return isinstance(t, BuiltinType) and t.name == 'null'


def _alternate_decls(alt):
    n = alt.c_name()
    return ('bool visit_%s_from_json(JsonNode *node, const char *name, %s **out,'
            '\n    Error **errp);\nJsonNode *visit_%s_to_json(const %s *obj);\n\n'
            % (n, n, n, n))


def _alternate_defs(alt):
    n = alt.c_name()
    out = ('bool visit_%s_from_json(JsonNode *node, const char *name, %s **out,'
           ' Error **errp)\n{\n    %s *obj = g_new0(%s, 1);\n'
           '    bool ok = false;\n\n    *out = NULL;\n'
           '    obj->type = qapi_json_qtype(node);\n'
           '    switch (obj->type) {\n' % (n, n, n, n))
    for v in alt.variants:
        out += '    case %s:\n' % QTYPE_OF_CATEGORY[v.type.json_category()]
        if _is_null(v.type):
            out += '        ok = true;\n'
        else:
            out += ('        ok = visit_%s_from_json(node, name, &obj->u.%s, '
                    'errp);\n' % (vname(v.type), v.c_name()))
        out += '        break;\n'
    out += ('    default:\n        qapi_error_type(errp, name, %s);\n'
            '        break;\n    }\n'
            '    if (!ok) {\n        qapi_free_%s(obj);\n        return false;\n'
            '    }\n    *out = obj;\n    return true;\n}\n\n'
            % (c_string(alt.name), n))

    out += ('JsonNode *visit_%s_to_json(const %s *obj)\n{\n    g_assert(obj);\n'
            '    switch (obj->type) {\n' % (n, n))
    for v in alt.variants:
        out += '    case %s:\n' % QTYPE_OF_CATEGORY[v.type.json_category()]
        if _is_null(v.type):
            out += '        return qjson_new_null();\n'
        else:
            out += '        return visit_%s_to_json(obj->u.%s);\n' % (
                vname(v.type), v.c_name())
    out += ('    default:\n        break;\n    }\n'
            '    g_assert_not_reached();\n    return NULL;\n}\n\n')
    return out


def _list_decls(arr):
    n = arr.c_name()
    return ('bool visit_%s_from_json(JsonNode *node, const char *name, %s **out,'
            '\n    Error **errp);\nJsonNode *visit_%s_to_json(const %s *list);'
            '\n\n' % (n, n, n, n))


def _list_defs(arr):
    n = arr.c_name()
    e = vname(arr.element)
    return ('bool visit_%s_from_json(JsonNode *node, const char *name, %s **out,'
            ' Error **errp)\n{\n'
            '    %s *head = NULL, **tail = &head;\n    JsonArray *array;\n'
            '    guint i, len;\n\n    *out = NULL;\n'
            '    if (!qapi_check_qtype(node, name, QTYPE_QLIST, errp)) {\n'
            '        return false;\n    }\n'
            '    array = json_node_get_array(node);\n'
            '    len = json_array_get_length(array);\n'
            '    for (i = 0; i < len; i++) {\n'
            '        g_autofree char *path = qapi_path_index(name, i);\n'
            '        %s *elem = g_new0(%s, 1);\n\n'
            '        *tail = elem;\n        tail = &elem->next;\n'
            '        if (!visit_%s_from_json(json_array_get_element(array, i), '
            'path,\n                                &elem->value, errp)) {\n'
            '            qapi_free_%s(head);\n            return false;\n'
            '        }\n    }\n    *out = head;\n    return true;\n}\n\n'
            'JsonNode *visit_%s_to_json(const %s *list)\n{\n'
            '    JsonArray *array = json_array_new();\n\n'
            '    for (; list; list = list->next) {\n'
            '        json_array_add_element(array, visit_%s_to_json('
            'list->value));\n    }\n'
            '    return qjson_new_array(array);\n}\n\n'
            % (n, n, n, n, n, e, n, n, n, e))


# -- modules -----------------------------------------------------------------

_C_INCLUDES = ('#include <glib.h>\n\n#include "qapi/error.h"\n'
               '#include "qapi/qjson.h"\n#include "qapi/qapi-util.h"\n')


def gen_builtin_visit(schema, blurb):
    h = CFile('qapi-builtin-visit.h', blurb)
    c = CFile('qapi-builtin-visit.c', blurb)
    h.add('#include "qapi-builtin-types.h"\n#include "qapi/error.h"\n'
          '#include "qapi/qapi-util.h"\n\n')
    c.add(_C_INCLUDES + '#include "qapi-builtin-visit.h"\n\n')
    for arr in builtin_list_types(schema):
        h.add(_list_decls(arr))
        c.add(_list_defs(arr))
    return [h, c]


def gen_visit(schema, prefix, builtins, blurb):
    h = CFile(prefix + 'qapi-visit.h', blurb)
    c = CFile(prefix + 'qapi-visit.c', blurb)
    h.add('#include "%sqapi-types.h"\n#include "%s"\n'
          '#include "qapi/error.h"\n\n'
          % (prefix, 'qapi-builtin-visit.h' if builtins
             else 'qapi/qapi-builtin-visit.h'))
    h.add(_HEADER_INTRO)
    c.add(_C_INCLUDES + '#include "%sqapi-visit.h"\n\n' % prefix)

    types = [t for t in schema.types()
             if not isinstance(t, (BuiltinType, ArrayType))]
    objects = [t for t in types if isinstance(t, ObjectType)]
    for obj in objects:
        c.add(_object_protos(obj))
    c.add('\n')
    for t in types:
        if isinstance(t, EnumType):
            h.add(_enum_decls(t))
            c.add(_enum_defs(t))
        elif isinstance(t, ObjectType):
            h.add(_object_decls(t))
            c.add(_object_defs(t))
        elif isinstance(t, AlternateType):
            h.add(_alternate_decls(t))
            c.add(_alternate_defs(t))
    for arr in list_types_for(schema):
        h.add(_list_decls(arr))
        c.add(_list_defs(arr))
    return [h, c]
