"""The checked QAPI schema: entities built from parsed expressions.

Schema(fname, defines) parses, type-checks the whole schema (every 'if'
branch, so that an error cannot hide behind a condition), then drops what
is disabled by an 'if' condition false for the given config symbols.
"""

import re

from .common import QAPIError, c_name
from .parser import SchemaParser


# name, C type, JSON type in introspection, alternate JSON category
BUILTINS = [
    ('str', 'char *', 'string', 'string'),
    ('number', 'double', 'number', 'number'),
    ('int', 'int64_t', 'int', 'number'),
    ('int8', 'int8_t', 'int', 'number'),
    ('int16', 'int16_t', 'int', 'number'),
    ('int32', 'int32_t', 'int', 'number'),
    ('int64', 'int64_t', 'int', 'number'),
    ('uint8', 'uint8_t', 'int', 'number'),
    ('uint16', 'uint16_t', 'int', 'number'),
    ('uint32', 'uint32_t', 'int', 'number'),
    ('uint64', 'uint64_t', 'int', 'number'),
    ('size', 'uint64_t', 'int', 'number'),
    ('bool', 'bool', 'boolean', 'boolean'),
    ('null', 'JsonNode *', 'null', 'null'),
    ('any', 'JsonNode *', 'value', None),
]


class IfCond:
    """An 'if' condition: None (always), a symbol, or all/any/not."""

    def __init__(self, expr=None, info=None):
        if expr is not None:
            self._check(expr, info)
        self.expr = expr

    @staticmethod
    def _check(expr, info):
        if isinstance(expr, str):
            if not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', expr):
                raise QAPIError(info, "'if' condition '%s' is not a valid "
                                "identifier" % expr)
            return
        if not isinstance(expr, dict) or len(expr) != 1:
            raise QAPIError(info, "'if' condition must be a string or an "
                            "object with one of 'all', 'any', 'not'")
        op, arg = next(iter(expr.items()))
        if op == 'not':
            IfCond._check(arg, info)
        elif op in ('all', 'any'):
            if not isinstance(arg, list) or not arg:
                raise QAPIError(info, "'if' condition '%s' needs a non-empty "
                                "list" % op)
            for a in arg:
                IfCond._check(a, info)
        else:
            raise QAPIError(info, "'if' condition has unknown operator '%s'"
                            % op)

    @staticmethod
    def _eval(expr, defines):
        if isinstance(expr, str):
            return expr in defines
        op, arg = next(iter(expr.items()))
        if op == 'not':
            return not IfCond._eval(arg, defines)
        if op == 'all':
            return all(IfCond._eval(a, defines) for a in arg)
        return any(IfCond._eval(a, defines) for a in arg)

    def eval(self, defines):
        return self.expr is None or self._eval(self.expr, defines)


class Feature:
    def __init__(self, name, info, ifcond):
        self.name = name
        self.info = info
        self.ifcond = ifcond


# -- entities -------------------------------------------------------------

class Entity:
    meta = None

    def __init__(self, name, info, doc=None, ifcond=None, features=()):
        self.name = name
        self.info = info
        self.doc = doc
        self.ifcond = ifcond or IfCond()
        self.features = list(features)

    def describe(self):
        return "%s '%s'" % (self.meta, self.name)


class Type(Entity):
    implicit = False

    def c_name(self):
        return c_name(self.name)

    def c_type(self):
        """The C type of a member or list element holding this type."""
        raise NotImplementedError

    def is_pointer(self):
        return self.c_type().endswith('*')

    def json_category(self):
        """What JSON value it is on the wire (for alternate clashes)."""
        raise NotImplementedError

    def referenced_types(self):
        return []


class BuiltinType(Type):
    meta = 'built-in'

    def __init__(self, name, ctype, json_type, category):
        super().__init__(name, None)
        self._c_type = ctype
        self.json_type = json_type
        self.category = category

    def c_name(self):
        return self.name

    def c_type(self):
        return self._c_type

    def json_category(self):
        return self.category


class EnumValue:
    def __init__(self, name, info, ifcond, features):
        self.name = name
        self.info = info
        self.ifcond = ifcond
        self.features = features


class EnumType(Type):
    meta = 'enum'

    def __init__(self, name, info, doc, ifcond, features, values, prefix):
        super().__init__(name, info, doc, ifcond, features)
        self.values = values
        self.prefix = prefix

    def c_type(self):
        return self.c_name()

    def json_category(self):
        return 'string'

    def value_names(self):
        return [v.name for v in self.values]


class ArrayType(Type):
    meta = 'array'

    def __init__(self, element, info):
        super().__init__(element.name + 'List', info)
        self.element = element
        self.implicit = True

    def c_name(self):
        return self.element.c_name() + 'List'

    def c_type(self):
        return self.c_name() + ' *'

    def json_category(self):
        return 'array'

    def referenced_types(self):
        return [self.element]


class Member:
    def __init__(self, name, info, type_ref, optional, ifcond, features,
                 owner):
        self.name = name
        self.info = info
        self.type_ref = type_ref
        self.type = None
        self.optional = optional
        self.ifcond = ifcond
        self.features = features
        self.owner = owner

    def c_name(self):
        return c_name(self.name)

    def describe(self):
        return "member '%s'" % self.name


class Variant:
    """A union branch (name is the tag value) or an alternate branch."""

    def __init__(self, name, info, type_ref, ifcond):
        self.name = name
        self.info = info
        self.type_ref = type_ref
        self.type = None
        self.ifcond = ifcond

    def c_name(self):
        return c_name(self.name)


class ObjectType(Type):
    """A struct, a union (variants set) or an implicit argument type."""

    meta = 'struct'

    def __init__(self, name, info, doc, ifcond, features, base_ref, members,
                 tag_name=None, variants=None, implicit=False):
        super().__init__(name, info, doc, ifcond, features)
        self.base_ref = base_ref
        self.base = None
        self.local_members = members
        self.tag_name = tag_name
        self.tag_member = None
        self.variants = variants
        self.implicit = implicit
        if variants is not None:
            self.meta = 'union'
        self._checked = False
        self._checking = False

    def is_union(self):
        return self.variants is not None

    def c_type(self):
        return self.c_name() + ' *'

    def json_category(self):
        return 'object'

    def all_members(self):
        """Base members first (flattened), then the local ones."""
        base = self.base.all_members() if self.base else []
        return base + self.local_members

    def referenced_types(self):
        types = [m.type for m in self.local_members]
        if self.base:
            types.append(self.base)
        if self.variants:
            types += [v.type for v in self.variants]
        return types


class AlternateType(Type):
    meta = 'alternate'

    def __init__(self, name, info, doc, ifcond, features, variants):
        super().__init__(name, info, doc, ifcond, features)
        self.variants = variants

    def c_type(self):
        return self.c_name() + ' *'

    def json_category(self):
        return None

    def referenced_types(self):
        return [v.type for v in self.variants]


class Command(Entity):
    meta = 'command'

    def __init__(self, name, info, doc, ifcond, features, arg_ref, ret_ref,
                 boxed, gen, success_response, allow_oob, allow_preconfig,
                 coroutine):
        super().__init__(name, info, doc, ifcond, features)
        self.arg_ref = arg_ref
        self.arg_type = None
        self.ret_ref = ret_ref
        self.ret_type = None
        self.boxed = boxed
        self.gen = gen
        self.success_response = success_response
        self.allow_oob = allow_oob
        self.allow_preconfig = allow_preconfig
        self.coroutine = coroutine

    def referenced_types(self):
        return [t for t in (self.arg_type, self.ret_type) if t]


class Event(Entity):
    meta = 'event'

    def __init__(self, name, info, doc, ifcond, features, arg_ref, boxed):
        super().__init__(name, info, doc, ifcond, features)
        self.arg_ref = arg_ref
        self.arg_type = None
        self.boxed = boxed

    def referenced_types(self):
        return [self.arg_type] if self.arg_type else []


# -- name rules (reference C.4) ---------------------------------------------

_VALID_NAME = re.compile(r'^(__[a-z0-9.-]+_)?(x-)?([a-z][a-z0-9_-]*)$',
                         re.IGNORECASE)


def _check_name(name, info, what, enum_value=False):
    """Checks the common syntax and returns the name without the downstream
    and 'x-' prefixes."""
    if not isinstance(name, str):
        raise QAPIError(info, "%s requires a string name" % what)
    # Enum values may begin with a digit; check them as if led by a letter.
    digit = enum_value and name[:1].isdigit()
    match = _VALID_NAME.match('d' + name if digit else name)
    if not match:
        raise QAPIError(info, "%s has an invalid name" % what)
    if name.lower().startswith(('q_', 'q-')):
        raise QAPIError(info, "%s uses reserved name prefix 'q_'" % what)
    stem = match.group(3)
    return stem[1:] if digit else stem


def _check_lower(name, info, what, permit_upper=False,
                 permit_underscore=False, enum_value=False):
    stem = _check_name(name, info, what, enum_value)
    if not permit_upper and re.search(r'[A-Z]', stem):
        raise QAPIError(info, "name of %s must not use uppercase" % what)
    if not permit_underscore and '_' in stem:
        raise QAPIError(info, "name of %s must not use '_'" % what)


def _check_upper(name, info, what):
    stem = _check_name(name, info, what)
    if re.search(r'[a-z-]', stem):
        raise QAPIError(info, "name of %s must not use lowercase or '-'"
                        % what)


def _check_camel(name, info, what):
    stem = _check_name(name, info, what)
    if not re.match(r'^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$', stem):
        raise QAPIError(info, "name of %s must use CamelCase" % what)
    if name.endswith('List'):
        raise QAPIError(info, "%s name should not end in 'List'" % what)


# -- expression shape -------------------------------------------------------

_KEYS = {
    'enum': ({'data'}, {'prefix', 'if', 'features'}),
    'struct': ({'data'}, {'base', 'if', 'features'}),
    'union': ({'base', 'discriminator', 'data'}, {'if', 'features'}),
    'alternate': ({'data'}, {'if', 'features'}),
    'command': (set(), {'data', 'returns', 'boxed', 'success-response',
                        'gen', 'allow-oob', 'allow-preconfig', 'coroutine',
                        'if', 'features'}),
    'event': (set(), {'data', 'boxed', 'if', 'features'}),
}


def _key_info(expr, key, default):
    return getattr(expr, 'key_info', {}).get(key, default)


class Schema:
    def __init__(self, fname, defines=()):
        parser = SchemaParser(fname)
        self.pragmas = parser.pragmas
        self.defines = set(defines)
        self.entities = []          # definitions in source order
        self._by_name = {}
        for name, ctype, json_type, category in BUILTINS:
            self._define(BuiltinType(name, ctype, json_type, category))
        for e in parser.exprs:
            self._add_expr(e)
        self._resolve_all()
        for ent in list(self.entities):
            self._check_entity(ent)
        self._check_c_names()
        for ent in self.entities:
            if ent.doc is not None or self.pragmas.doc_required:
                self._check_doc(ent)
        self._prune()

    # -- lookup ----------------------------------------------------------

    def lookup(self, name):
        return self._by_name.get(name)

    def builtins(self):
        return [e for e in self.entities if isinstance(e, BuiltinType)]

    def types(self):
        return [e for e in self.entities if isinstance(e, Type)]

    def commands(self):
        return [e for e in self.entities if isinstance(e, Command)]

    def events(self):
        return [e for e in self.entities if isinstance(e, Event)]

    def _define(self, ent):
        old = self._by_name.get(ent.name)
        if old is not None:
            if old.info is None:
                raise QAPIError(ent.info, "'%s' is a built-in type"
                                % ent.name)
            raise QAPIError(ent.info, "'%s' is already defined at %s"
                            % (ent.name, old.info))
        self._by_name[ent.name] = ent
        self.entities.append(ent)

    # -- building entities from expressions --------------------------------

    def _add_expr(self, e):
        expr, info, doc = e.expr, e.info, e.doc
        metas = [k for k in _KEYS if k in expr]
        if not metas:
            raise QAPIError(info, "expression is missing metatype")
        if len(metas) > 1:
            raise QAPIError(info, "expression has conflicting metatypes "
                            "'%s' and '%s'" % (metas[0], metas[1]))
        meta = metas[0]
        name = expr[meta]
        if not isinstance(name, str):
            raise QAPIError(info, "'%s' key must have a string value" % meta)
        what = "%s '%s'" % (meta, name)
        required, optional = _KEYS[meta]
        for key in expr:
            if key != meta and key not in required | optional:
                raise QAPIError(_key_info(expr, key, info),
                                "%s has unknown key '%s'" % (what, key))
        for key in sorted(required):
            if key not in expr:
                raise QAPIError(info, "%s lacks key '%s'" % (what, key))
        ifcond = IfCond(expr.get('if'), _key_info(expr, 'if', info))
        features = self._features(expr.get('features'), info, what)

        if meta == 'event':
            _check_upper(name, info, what)
        elif meta == 'command':
            exc = name in self.pragmas.command_name_exceptions
            _check_lower(name, info, what, permit_underscore=exc)
        else:
            _check_camel(name, info, what)

        if meta == 'enum':
            self._define(self._enum(name, info, doc, ifcond, features, expr))
        elif meta == 'struct':
            members = self._members(expr['data'], info, name, what)
            base = self._type_name(expr.get('base'), info, what, "'base'")
            self._define(ObjectType(name, info, doc, ifcond, features, base,
                                    members))
        elif meta == 'union':
            self._define(self._union(name, info, doc, ifcond, features,
                                     expr, what))
        elif meta == 'alternate':
            self._define(self._alternate(name, info, doc, ifcond, features,
                                         expr, what))
        elif meta == 'command':
            self._define(self._command(name, info, doc, ifcond, features,
                                       expr, what))
        else:
            boxed = self._flag(expr, 'boxed', True, info, what)
            arg = self._arg_ref(name, info, ifcond, expr, boxed, what)
            self._define(Event(name, info, doc, ifcond, features, arg, boxed))

    def _flag(self, expr, key, allowed, info, what):
        """Returns the value of an optional boolean flag that may only be
        written with the non-default value allowed."""
        if key not in expr:
            return not allowed
        val = expr[key]
        if val is not allowed:
            raise QAPIError(_key_info(expr, key, info),
                            "%s: flag '%s' may only use %s value"
                            % (what, key, 'true' if allowed else 'false'))
        return val

    def _features(self, feats, info, what):
        if feats is None:
            return []
        if not isinstance(feats, list):
            raise QAPIError(info, "%s: 'features' must be an array" % what)
        out = []
        seen = set()
        for f in feats:
            fif = IfCond()
            if isinstance(f, dict):
                if 'name' not in f or set(f) - {'name', 'if'}:
                    raise QAPIError(info, "%s: a feature must be a string or "
                                    "{'name', '*if'}" % what)
                fif = IfCond(f.get('if'), info)
                f = f['name']
            _check_lower(f, info, "%s feature '%s'" % (what, f))
            if f in seen:
                raise QAPIError(info, "%s: duplicate feature '%s'"
                                % (what, f))
            seen.add(f)
            out.append(Feature(f, info, fif))
        return out

    def _type_name(self, ref, info, what, role):
        """A reference to a type by name (no arrays), or None."""
        if ref is None:
            return None
        if not isinstance(ref, str):
            raise QAPIError(info, "%s: %s must be a type name"
                            % (what, role))
        return ref

    def _type_ref(self, ref, info, what):
        """'Name' or ['Name']."""
        if isinstance(ref, str):
            return ref
        if isinstance(ref, list) and len(ref) == 1 \
                and isinstance(ref[0], str):
            return ref
        raise QAPIError(info, "%s must be a type name or an array of one "
                        "type name" % what)

    def _members(self, data, info, owner, what):
        if not isinstance(data, dict):
            raise QAPIError(info, "%s: 'data' must be an object" % what)
        exc = owner in self.pragmas.member_name_exceptions
        members = []
        for key, val in data.items():
            minfo = _key_info(data, key, info)
            optional = key.startswith('*')
            name = key[1:] if optional else key
            mwhat = "member '%s'" % name
            _check_lower(name, minfo, mwhat, permit_upper=exc,
                         permit_underscore=exc)
            if c_name(name).startswith('has_'):
                raise QAPIError(minfo, "%s uses reserved prefix 'has'"
                                % mwhat)
            ifcond = IfCond()
            features = []
            if isinstance(val, dict):
                if 'type' not in val or set(val) - {'type', 'if',
                                                    'features'}:
                    raise QAPIError(minfo, "%s must be a type or "
                                    "{'type', '*if', '*features'}" % mwhat)
                ifcond = IfCond(val.get('if'), minfo)
                features = self._features(val.get('features'), minfo, mwhat)
                val = val['type']
            ref = self._type_ref(val, minfo, mwhat)
            members.append(Member(name, minfo, ref, optional, ifcond,
                                  features, owner))
        return members

    def _enum(self, name, info, doc, ifcond, features, expr):
        what = "enum '%s'" % name
        data = expr['data']
        if not isinstance(data, list):
            raise QAPIError(info, "%s: 'data' must be an array" % what)
        prefix = expr.get('prefix')
        if prefix is not None and (not isinstance(prefix, str)
                                   or not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$',
                                                   prefix)):
            raise QAPIError(info, "%s: 'prefix' must be a C identifier"
                            % what)
        exc = name in self.pragmas.member_name_exceptions
        values = []
        for v in data:
            vif = IfCond()
            vfeat = []
            if isinstance(v, dict):
                if 'name' not in v or set(v) - {'name', 'if', 'features'}:
                    raise QAPIError(info, "%s: a value must be a string or "
                                    "{'name', '*if', '*features'}" % what)
                vif = IfCond(v.get('if'), info)
                vfeat = self._features(v.get('features'), info, what)
                v = v['name']
            _check_lower(v, info, "%s value '%s'" % (what, v),
                         permit_upper=exc, permit_underscore=exc,
                         enum_value=True)
            values.append(EnumValue(v, info, vif, vfeat))
        return EnumType(name, info, doc, ifcond, features, values, prefix)

    def _union(self, name, info, doc, ifcond, features, expr, what):
        base = expr['base']
        if isinstance(base, dict):
            members = self._members(base, _key_info(expr, 'base', info),
                                    name, what)
            base_type = ObjectType('q_obj_%s-base' % name, info, None, ifcond,
                                   [], None, members, implicit=True)
            self._define(base_type)
            base = base_type.name
        else:
            base = self._type_name(base, info, what, "'base'")
        tag = expr['discriminator']
        if not isinstance(tag, str):
            raise QAPIError(info, "%s: 'discriminator' must be a string"
                            % what)
        data = expr['data']
        if not isinstance(data, dict):
            raise QAPIError(info, "%s: 'data' must be an object" % what)
        variants = [self._variant(k, v, _key_info(data, k, info), what)
                    for k, v in data.items()]
        return ObjectType(name, info, doc, ifcond, features, base, [],
                          tag_name=tag, variants=variants)

    def _variant(self, key, val, info, what):
        _check_lower(key, info, "%s branch '%s'" % (what, key))
        vif = IfCond()
        if isinstance(val, dict):
            if 'type' not in val or set(val) - {'type', 'if'}:
                raise QAPIError(info, "%s: branch '%s' must be a type or "
                                "{'type', '*if'}" % (what, key))
            vif = IfCond(val.get('if'), info)
            val = val['type']
        ref = self._type_ref(val, info, "%s branch '%s'" % (what, key))
        return Variant(key, info, ref, vif)

    def _alternate(self, name, info, doc, ifcond, features, expr, what):
        data = expr['data']
        if not isinstance(data, dict) or not data:
            raise QAPIError(info, "%s: 'data' must be a non-empty object"
                            % what)
        variants = [self._variant(k, v, _key_info(data, k, info), what)
                    for k, v in data.items()]
        return AlternateType(name, info, doc, ifcond, features, variants)

    def _arg_ref(self, name, info, ifcond, expr, boxed, what):
        """The argument type of a command or event: an implicit type for
        'data': {members}, a type name, or None."""
        data = expr.get('data')
        if boxed and not isinstance(data, str):
            raise QAPIError(info, "%s: 'boxed': true requires 'data' to be "
                            "a type name" % what)
        if data is None:
            return None
        if isinstance(data, dict):
            dinfo = _key_info(expr, 'data', info)
            members = self._members(data, dinfo, name, what)
            if not members:
                return None
            arg = ObjectType('q_obj_%s-arg' % name, dinfo, None, ifcond, [],
                             None, members, implicit=True)
            self._define(arg)
            return arg.name
        return self._type_name(data, info, what, "'data'")

    def _command(self, name, info, doc, ifcond, features, expr, what):
        boxed = self._flag(expr, 'boxed', True, info, what)
        gen = self._flag(expr, 'gen', False, info, what)
        success = self._flag(expr, 'success-response', False, info, what)
        oob = self._flag(expr, 'allow-oob', True, info, what)
        preconfig = self._flag(expr, 'allow-preconfig', True, info, what)
        coroutine = self._flag(expr, 'coroutine', True, info, what)
        arg = self._arg_ref(name, info, ifcond, expr, boxed, what)
        ret = None
        if 'returns' in expr:
            ret = self._type_ref(expr['returns'], info, "%s 'returns'" % what)
        return Command(name, info, doc, ifcond, features, arg, ret, boxed,
                       gen, success, oob, preconfig, coroutine)

    # -- resolution --------------------------------------------------------

    def _resolve(self, ref, info, what):
        if ref is None:
            return None
        if isinstance(ref, list):
            elem = self._resolve(ref[0], info, what)
            if isinstance(elem, ArrayType):
                raise QAPIError(info, "%s: arrays of arrays are not "
                                "supported" % what)
            name = elem.name + 'List'
            arr = self._by_name.get(name)
            if arr is None:
                arr = ArrayType(elem, info)
                arr.ifcond = elem.ifcond
                self._by_name[name] = arr
                self.entities.append(arr)
            return arr
        ent = self._by_name.get(ref)
        if ent is None or not isinstance(ent, Type):
            if ent is None:
                raise QAPIError(info, "%s uses unknown type '%s'"
                                % (what, ref))
            raise QAPIError(info, "%s uses %s, which is not a type"
                            % (what, ent.describe()))
        return ent

    def _resolve_all(self):
        for ent in list(self.entities):
            what = ent.describe()
            if isinstance(ent, ObjectType):
                ent.base = self._resolve(ent.base_ref, ent.info,
                                         "%s 'base'" % what)
                for m in ent.local_members:
                    m.type = self._resolve(m.type_ref, m.info, "%s %s"
                                           % (what, m.describe()))
                for v in ent.variants or []:
                    v.type = self._resolve(v.type_ref, v.info,
                                           "%s branch '%s'" % (what, v.name))
            elif isinstance(ent, AlternateType):
                for v in ent.variants:
                    v.type = self._resolve(v.type_ref, v.info,
                                           "%s branch '%s'" % (what, v.name))
            elif isinstance(ent, (Command, Event)):
                ent.arg_type = self._resolve(ent.arg_ref, ent.info,
                                             "%s 'data'" % what)
                if isinstance(ent, Command):
                    ent.ret_type = self._resolve(ent.ret_ref, ent.info,
                                                 "%s 'returns'" % what)

    # -- semantic checks -----------------------------------------------------

    def _check_entity(self, ent):
        if isinstance(ent, ObjectType):
            self._check_object(ent)
        elif isinstance(ent, EnumType):
            self._check_enum(ent)
        elif isinstance(ent, AlternateType):
            self._check_alternate(ent)
        elif isinstance(ent, Command):
            self._check_command(ent)
        elif isinstance(ent, Event):
            self._check_event(ent)

    @staticmethod
    def _check_clash(members, info, what):
        seen = {}
        for m in members:
            cname = m.c_name()
            if cname in seen:
                raise QAPIError(m.info or info, "%s: member '%s' collides "
                                "with member '%s'"
                                % (what, m.name, seen[cname].name))
            seen[cname] = m

    def _check_object(self, obj):
        if obj._checked:
            return
        what = obj.describe()
        if obj._checking:
            raise QAPIError(obj.info, "%s contains itself" % what)
        obj._checking = True
        if obj.base_ref is not None:
            base = obj.base
            if not isinstance(base, ObjectType) or base.is_union():
                raise QAPIError(obj.info, "%s: 'base' requires a struct type, "
                                "%s isn't" % (what, base.describe()))
            self._check_object(base)
        self._check_clash(obj.all_members(), obj.info, what)
        if obj.is_union():
            self._check_union(obj, what)
        obj._checking = False
        obj._checked = True

    def _check_union(self, obj, what):
        members = obj.all_members()
        for m in members:
            if m.name == 'u':
                raise QAPIError(m.info, "%s: member name 'u' is reserved in "
                                "unions" % what)
        tag = [m for m in members if m.name == obj.tag_name]
        if not tag:
            raise QAPIError(obj.info, "%s: discriminator '%s' is not a "
                            "member of 'base'" % (what, obj.tag_name))
        tag = tag[0]
        if tag.optional:
            raise QAPIError(obj.info, "%s: discriminator member '%s' of "
                            "'base' must not be optional"
                            % (what, tag.name))
        if not isinstance(tag.type, EnumType):
            raise QAPIError(obj.info, "%s: discriminator member '%s' of "
                            "'base' must be of enum type"
                            % (what, tag.name))
        obj.tag_member = tag
        values = tag.type.value_names()
        for v in obj.variants:
            vwhat = "%s branch '%s'" % (what, v.name)
            if v.name not in values:
                raise QAPIError(v.info, "%s: branch '%s' is not a value of "
                                "%s" % (what, v.name, tag.type.describe()))
            if not isinstance(v.type, ObjectType) or v.type.is_union():
                raise QAPIError(v.info, "%s cannot use %s" % (
                    vwhat, v.type.describe()))
            self._check_object(v.type)
            for m in v.type.all_members():
                if m.name == 'u':
                    raise QAPIError(v.info, "%s: member name 'u' is reserved "
                                    "in unions" % vwhat)
            self._check_clash(members + v.type.all_members(), v.info, vwhat)

    def _check_enum(self, enum):
        what = enum.describe()
        seen = {}
        for v in enum.values:
            cname = c_name(v.name, False).upper()
            if cname in seen:
                raise QAPIError(enum.info, "%s: value '%s' collides with "
                                "value '%s'" % (what, v.name, seen[cname]))
            seen[cname] = v.name

    def _check_alternate(self, alt):
        what = alt.describe()
        seen = {}
        for v in alt.variants:
            vwhat = "%s branch '%s'" % (what, v.name)
            cat = v.type.json_category()
            if cat is None:
                raise QAPIError(v.info, "%s cannot use %s" % (
                    vwhat, "type 'any'" if v.type.name == 'any'
                    else v.type.describe()))
            if cat in seen:
                raise QAPIError(v.info, "%s can't be distinguished from "
                                "'%s'" % (vwhat, seen[cat]))
            seen[cat] = v.name

    def _check_arg_type(self, ent, what):
        t = ent.arg_type
        if t is None or t.implicit:
            return
        if not isinstance(t, ObjectType):
            raise QAPIError(ent.info, "%s: 'data' cannot take %s" % (
                what, t.describe()))
        if t.is_union() and not ent.boxed:
            raise QAPIError(ent.info, "%s: 'data' can take %s only with "
                            "'boxed': true" % (what, t.describe()))

    def _check_command(self, cmd):
        what = cmd.describe()
        self._check_arg_type(cmd, what)
        t = cmd.ret_type
        if t is None or cmd.name in self.pragmas.command_returns_exceptions:
            return
        elem = t.element if isinstance(t, ArrayType) else t
        if not isinstance(elem, ObjectType):
            raise QAPIError(cmd.info, "%s: 'returns' cannot take %s" % (
                what, "type '%s'" % t.name if isinstance(
                    elem, BuiltinType) else t.describe()))

    def _check_event(self, ev):
        self._check_arg_type(ev, ev.describe())

    def _check_c_names(self):
        """Two definitions must not map to the same C name."""
        seen = {}
        for ent in self.entities:
            if isinstance(ent, (BuiltinType, ArrayType)):
                continue
            # qmp_NAME, qapi_event_send_name (lower case), or the type name.
            if isinstance(ent, (Command, Event)):
                key = (ent.meta, c_name(ent.name).lower())
            else:
                key = ('type', c_name(ent.name))
            if key in seen:
                raise QAPIError(ent.info, "%s collides with %s in C"
                                % (ent.describe(), seen[key].describe()))
            seen[key] = ent

    # -- documentation -------------------------------------------------------

    def _documentable(self, ent):
        """The names a doc block of ent may describe with '@name:'."""
        if isinstance(ent, EnumType):
            return [v.name for v in ent.values]
        if isinstance(ent, AlternateType):
            return [v.name for v in ent.variants]
        if isinstance(ent, ObjectType):
            names = [m.name for m in ent.local_members]
            if ent.is_union() and ent.base.implicit:
                names += [m.name for m in ent.base.local_members]
            return names
        if isinstance(ent, (Command, Event)):
            t = ent.arg_type
            if t is not None and t.implicit:
                return [m.name for m in t.local_members]
        return []

    def _documentable_features(self, ent):
        feats = [f.name for f in ent.features]
        members = []
        if isinstance(ent, EnumType):
            for v in ent.values:
                feats += [f.name for f in v.features]
        elif isinstance(ent, ObjectType):
            members = ent.local_members
            if ent.is_union() and ent.base.implicit:
                members = members + ent.base.local_members
        elif isinstance(ent, (Command, Event)):
            if ent.arg_type is not None and ent.arg_type.implicit:
                members = ent.arg_type.local_members
        for m in members:
            feats += [f.name for f in m.features]
        return feats

    def _check_doc(self, ent):
        if isinstance(ent, (BuiltinType, ArrayType)) or ent.info is None \
                or getattr(ent, 'implicit', False):
            return
        doc = ent.doc
        what = ent.describe()
        if doc is None:
            raise QAPIError(ent.info, "%s lacks documentation (pragma "
                            "'doc-required')" % what)
        if doc.symbol != ent.name:
            raise QAPIError(doc.info, "documentation for '%s' is followed by "
                            "the definition of '%s'" % (doc.symbol, ent.name))
        names = self._documentable(ent)
        for arg, info in doc.args.items():
            if arg not in names:
                raise QAPIError(info, "documented member '%s' does not exist"
                                % arg)
        feats = self._documentable_features(ent)
        for f, info in doc.features.items():
            if f not in feats:
                raise QAPIError(info, "documented feature '%s' does not "
                                "exist" % f)
        if not self.pragmas.doc_required \
                or ent.name in self.pragmas.documentation_exceptions:
            return
        for n in names:
            if n not in doc.args:
                raise QAPIError(ent.info, "%s: member '%s' lacks "
                                "documentation" % (what, n))
        for f in feats:
            if f not in doc.features:
                raise QAPIError(ent.info, "%s: feature '%s' lacks "
                                "documentation" % (what, f))

    # -- conditions ------------------------------------------------------------

    def _prune(self):
        """Drops everything whose 'if' condition is false."""
        d = self.defines

        def keep(xs):
            return [x for x in xs if x.ifcond.eval(d)]

        self.entities = [e for e in self.entities if e.ifcond.eval(d)]
        self._by_name = {e.name: e for e in self.entities}
        for ent in self.entities:
            ent.features = keep(ent.features)
            if isinstance(ent, EnumType):
                ent.values = keep(ent.values)
                for v in ent.values:
                    v.features = keep(v.features)
            elif isinstance(ent, ObjectType):
                ent.local_members = keep(ent.local_members)
                for m in ent.local_members:
                    m.features = keep(m.features)
            elif isinstance(ent, AlternateType):
                ent.variants = keep(ent.variants)
                if not ent.variants:
                    raise QAPIError(ent.info, "%s has no branch left after "
                                    "evaluating 'if' conditions"
                                    % ent.describe())
        # Union branches follow the values of their (pruned) tag enum.
        for ent in self.entities:
            if isinstance(ent, ObjectType) and ent.is_union():
                if ent.tag_member not in ent.all_members():
                    raise QAPIError(ent.info, "%s: discriminator '%s' is "
                                    "disabled by its 'if' condition"
                                    % (ent.describe(), ent.tag_name))
                values = set(ent.tag_member.type.value_names())
                ent.variants = [v for v in keep(ent.variants)
                                if v.name in values]
        for ent in self.entities:
            for t in ent.referenced_types() if not isinstance(
                    ent, BuiltinType) else []:
                if t is not None and self._by_name.get(t.name) is not t:
                    raise QAPIError(ent.info, "%s uses %s, which is disabled "
                                    "by its 'if' condition"
                                    % (ent.describe(), t.describe()))
