"""qapi-types.h/.c: C types for the schema's types, enum string tables,
list types and the qapi_free_*() functions."""

from .common import CFile, c_enum_const, c_string, camel_to_upper
from .schema import (AlternateType, ArrayType, BuiltinType, EnumType,
                     ObjectType)


QTYPE_OF_CATEGORY = {
    'string': 'QTYPE_QSTRING',
    'number': 'QTYPE_QNUM',
    'boolean': 'QTYPE_QBOOL',
    'null': 'QTYPE_QNULL',
    'object': 'QTYPE_QDICT',
    'array': 'QTYPE_QLIST',
}


def enum_max(enum):
    prefix = enum.prefix if enum.prefix is not None \
        else camel_to_upper(enum.name)
    return prefix + '__MAX'


def enum_const(enum, value):
    return c_enum_const(enum.name, value, enum.prefix)


def param_type(t):
    """The C type of a handler or event parameter of type t: strings are
    passed as const char *, everything else as stored."""
    if isinstance(t, BuiltinType) and t.name == 'str':
        return 'const char *'
    return t.c_type()


def decl(ctype, name):
    """'int64_t x' / 'char *x'."""
    if ctype.endswith('*'):
        return ctype + name
    return '%s %s' % (ctype, name)


def free_stmt(t, expr):
    """A C statement freeing a value of type t held in expr, or None."""
    if isinstance(t, BuiltinType):
        if t.name == 'str':
            return 'g_free(%s);' % expr
        if t.name in ('any', 'null'):
            return 'qapi_free_any(%s);' % expr
        return None
    if isinstance(t, EnumType):
        return None
    return 'qapi_free_%s(%s);' % (t.c_name(), expr)


def list_types_for(schema):
    """The list types of a (non-builtin) module: one for every named type,
    whether or not the schema uses it, as users expect FooList to exist."""
    out = []
    for t in schema.types():
        if isinstance(t, (EnumType, ObjectType, AlternateType)) \
                and not t.implicit:
            arr = schema.lookup(t.name + 'List')
            out.append(arr if arr is not None else ArrayType(t, t.info))
    return out


def builtin_list_types(schema):
    return [ArrayType(t, None) for t in schema.builtins()]


def has_members(obj):
    return bool(obj.all_members()) or bool(obj.variants)


# -- header ---------------------------------------------------------------

def _gen_enum_decl(enum):
    out = 'typedef enum %s {\n' % enum.c_name()
    for v in enum.values:
        out += '    %s,\n' % enum_const(enum, v.name)
    out += '    %s,\n} %s;\n' % (enum_max(enum), enum.c_name())
    out += 'extern const char *const %s_lookup[%s + 1];\n\n' % (
        enum.c_name(), enum_max(enum))
    return out


def _gen_members(obj):
    out = ''
    for m in obj.all_members():
        if m.optional and not m.type.is_pointer():
            out += '    bool has_%s;\n' % m.c_name()
        out += '    %s;\n' % decl(m.type.c_type(), m.c_name())
    if obj.variants:
        out += '    union { /* data of the branch selected by %s */\n' \
            % obj.tag_member.c_name()
        for v in obj.variants:
            out += '        %s %s;\n' % (v.type.c_name(), v.c_name())
        out += '    } u;\n'
    if not has_members(obj):
        out += '    char qapi_dummy_for_empty_struct;\n'
    return out


def _gen_object_decl(obj):
    out = 'struct %s {\n' % obj.c_name()
    out += _gen_members(obj)
    out += '};\n\n'
    out += 'void qapi_free_%s(%s *obj);\n' % (obj.c_name(), obj.c_name())
    if obj.base is not None and not obj.base.implicit:
        out += ('/* Valid because the members of the base come first. */\n'
                'static inline %s *qapi_%s_base(const %s *obj)\n'
                '{\n    return (%s *)obj;\n}\n'
                % (obj.base.c_name(), obj.c_name(), obj.c_name(),
                   obj.base.c_name()))
    return out + '\n'


def _gen_alternate_decl(alt):
    out = 'struct %s {\n    QType type;\n    union {\n' % alt.c_name()
    for v in alt.variants:
        if isinstance(v.type, BuiltinType) and v.type.name == 'null':
            continue
        out += '        %s;\n' % decl(v.type.c_type(), v.c_name())
    out += '    } u;\n};\n\n'
    out += 'void qapi_free_%s(%s *obj);\n\n' % (alt.c_name(), alt.c_name())
    return out


def _gen_list_decl(arr):
    name = arr.c_name()
    return ('struct %s {\n    %s *next;\n    %s;\n};\n\n'
            'void qapi_free_%s(%s *obj);\n\n'
            % (name, name, decl(arr.element.c_type(), 'value'), name, name))


def _object_order(objects):
    """Objects ordered so that a union's branch types (held inline) are
    defined before the union."""
    done = set()
    out = []

    def visit(obj):
        if obj.name in done:
            return
        done.add(obj.name)
        for v in obj.variants or []:
            visit(v.type)
        out.append(obj)

    for obj in objects:
        visit(obj)
    return out


# -- source ---------------------------------------------------------------

def _gen_enum_lookup(enum):
    out = 'const char *const %s_lookup[%s + 1] = {\n' % (
        enum.c_name(), enum_max(enum))
    for v in enum.values:
        out += '    [%s] = %s,\n' % (enum_const(enum, v.name),
                                     c_string(v.name))
    return out + '    [%s] = NULL,\n};\n\n' % enum_max(enum)


def _gen_free_members_body(obj, ptr):
    out = ''
    for m in obj.all_members():
        stmt = free_stmt(m.type, '%s->%s' % (ptr, m.c_name()))
        if stmt:
            out += '    %s\n' % stmt
    if obj.variants:
        out += '    switch (%s->%s) {\n' % (ptr, obj.tag_member.c_name())
        for v in obj.variants:
            out += ('    case %s:\n        qapi_free_members_%s(&%s->u.%s);\n'
                    '        break;\n'
                    % (enum_const(obj.tag_member.type, v.name),
                       v.type.c_name(), ptr, v.c_name()))
        out += '    default:\n        break;\n    }\n'
    return out


def _gen_object_free(obj):
    name = obj.c_name()
    out = ('static void qapi_free_members_%s(%s *obj)\n{\n'
           % (name, name))
    body = _gen_free_members_body(obj, 'obj')
    out += body if body else '    (void)obj;\n'
    out += '}\n\n'
    out += ('void qapi_free_%s(%s *obj)\n{\n    if (!obj) {\n        return;\n'
            '    }\n    qapi_free_members_%s(obj);\n    g_free(obj);\n}\n\n'
            % (name, name, name))
    return out


def _gen_alternate_free(alt):
    name = alt.c_name()
    out = ('void qapi_free_%s(%s *obj)\n{\n    if (!obj) {\n        return;\n'
           '    }\n    switch (obj->type) {\n' % (name, name))
    for v in alt.variants:
        stmt = free_stmt(v.type, 'obj->u.%s' % v.c_name())
        if stmt and not (isinstance(v.type, BuiltinType)
                         and v.type.name == 'null'):
            out += '    case %s:\n        %s\n        break;\n' % (
                QTYPE_OF_CATEGORY[v.type.json_category()], stmt)
    out += '    default:\n        break;\n    }\n    g_free(obj);\n}\n\n'
    return out


def _gen_list_free(arr):
    name = arr.c_name()
    stmt = free_stmt(arr.element, 'obj->value')
    out = ('void qapi_free_%s(%s *obj)\n{\n    while (obj) {\n'
           '        %s *next = obj->next;\n\n' % (name, name, name))
    if stmt:
        out += '        %s\n' % stmt
    out += '        g_free(obj);\n        obj = next;\n    }\n}\n\n'
    return out


_HEADER_INTRO = '''\
/*
 * Conventions (see also qapi-visit.h):
 * - An enum Foo has constants FOO_VALUE (or PREFIX_VALUE with 'prefix'),
 *   FOO__MAX, and Foo_lookup[], the wire strings indexed by value and
 *   terminated by NULL.
 * - Struct members are held as: str char *, int/intN/uintN/size the
 *   matching <stdint.h> type, number double, bool bool, any and null
 *   JsonNode *, enums by value, structs/unions/alternates/lists by
 *   pointer.  An optional member of a non-pointer type has "bool has_x";
 *   an absent optional pointer member is NULL.
 * - A struct with a base holds the base's members first;
 *   qapi_Foo_base() views it as the base.  A union holds its base members,
 *   then the selected branch inline in "u.<branch>".
 * - An alternate holds "QType type" (which JSON type it was) and the value
 *   in "u.<branch>".
 * - FooList is a NULL-terminated list {next, value}; the empty list is
 *   NULL.
 * - qapi_free_Foo() frees the object and everything it holds (NULL is
 *   fine).
 */

'''


def gen_builtin_types(schema, blurb):
    h = CFile('qapi-builtin-types.h', blurb)
    c = CFile('qapi-builtin-types.c', blurb)
    h.add('#include <stdbool.h>\n#include <stdint.h>\n'
          '#include <json-glib/json-glib.h>\n\n'
          '#include "qapi/qapi-util.h"\n\n')
    c.add('#include <glib.h>\n\n#include "qapi-builtin-types.h"\n\n')
    arrays = builtin_list_types(schema)
    for arr in arrays:
        h.add('typedef struct %s %s;\n' % (arr.c_name(), arr.c_name()))
    h.add('\n')
    for arr in arrays:
        h.add(_gen_list_decl(arr))
        c.add(_gen_list_free(arr))
    return [h, c]


def gen_types(schema, prefix, builtins, blurb):
    h = CFile(prefix + 'qapi-types.h', blurb)
    c = CFile(prefix + 'qapi-types.c', blurb)
    h.add('#include <stdbool.h>\n#include <stdint.h>\n'
          '#include <json-glib/json-glib.h>\n\n')
    h.add('#include "%s"\n\n' % ('qapi-builtin-types.h' if builtins
                                 else 'qapi/qapi-builtin-types.h'))
    h.add(_HEADER_INTRO)
    c.add('#include <glib.h>\n\n#include "%sqapi-types.h"\n\n' % prefix)

    types = [t for t in schema.types() if not isinstance(
        t, (BuiltinType, ArrayType))]
    enums = [t for t in types if isinstance(t, EnumType)]
    objects = [t for t in types if isinstance(t, ObjectType)]
    alternates = [t for t in types if isinstance(t, AlternateType)]
    arrays = list_types_for(schema)

    for e in enums:
        h.add(_gen_enum_decl(e))
        c.add(_gen_enum_lookup(e))
    for t in objects + alternates + arrays:
        h.add('typedef struct %s %s;\n' % (t.c_name(), t.c_name()))
    h.add('\n')
    for obj in _object_order(objects):
        h.add(_gen_object_decl(obj))
        c.add(_gen_object_free(obj))
    for alt in alternates:
        h.add(_gen_alternate_decl(alt))
        c.add(_gen_alternate_free(alt))
    for arr in arrays:
        h.add(_gen_list_decl(arr))
        c.add(_gen_list_free(arr))
    return [h, c]
