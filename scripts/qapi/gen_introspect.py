"""qapi-introspect.h/.c: the query-qmp-schema reply (reference C.5).

The SchemaInfo list is computed here, at build time (conditions are
already evaluated), and stored as JSON text.
"""

import json

from .common import CFile, c_name, c_string
from .schema import (AlternateType, ArrayType, BuiltinType, EnumType,
                     ObjectType)


_EMPTY = 'q_empty'      # the member-less object type


class _Introspection:
    def __init__(self, schema, unmask):
        self.schema = schema
        self.unmask = unmask
        self.masked = {}        # type name -> name used in the output
        self.entries = []
        self.emitted = set()
        self.pending = []       # types used but not yet described

    def _name(self, name):
        if self.unmask:
            return name
        if name not in self.masked:
            self.masked[name] = str(len(self.masked))
        return self.masked[name]

    def _use(self, t):
        """The name by which the output refers to type t (None: q_empty);
        queues t's own entry."""
        if t is None:
            key = _EMPTY
        elif isinstance(t, BuiltinType):
            # Every integer type is "int" in introspection.
            key = t.json_type if t.json_type == 'int' else t.name
        elif isinstance(t, ArrayType):
            key = '[%s]' % self._use(t.element)
        else:
            key = t.name
        if key not in self.emitted:
            self.emitted.add(key)
            self.pending.append((key, t))
        if t is None or isinstance(t, (ObjectType, EnumType, AlternateType)):
            return self._name(key)
        return key

    @staticmethod
    def _entry(name, meta, extra, features):
        obj = {'name': name, 'meta-type': meta}
        obj.update(extra)
        if features:
            obj['features'] = [f.name for f in features]
        return obj

    def _member(self, m):
        obj = {'name': m.name, 'type': self._use(m.type)}
        if m.optional:
            obj['default'] = None
        if m.features:
            obj['features'] = [f.name for f in m.features]
        return obj

    def _describe(self, key, t):
        if t is None:
            return self._entry(self._name(key), 'object', {'members': []}, [])
        if isinstance(t, BuiltinType):
            return self._entry(key, 'builtin', {'json-type': t.json_type}, [])
        if isinstance(t, ArrayType):
            elem = key[1:-1]
            return self._entry(key, 'array', {'element-type': elem}, [])
        name = self._name(key)
        if isinstance(t, EnumType):
            members = []
            for v in t.values:
                m = {'name': v.name}
                if v.features:
                    m['features'] = [f.name for f in v.features]
                members.append(m)
            return self._entry(name, 'enum', {
                'members': members,
                'values': [v.name for v in t.values]}, t.features)
        if isinstance(t, AlternateType):
            return self._entry(name, 'alternate', {
                'members': [{'type': self._use(v.type)} for v in t.variants]},
                t.features)
        extra = {'members': [self._member(m) for m in t.all_members()]}
        if t.is_union():
            branches = {v.name: v.type for v in t.variants}
            extra['tag'] = t.tag_member.name
            extra['variants'] = [
                {'case': value, 'type': self._use(branches.get(value))}
                for value in t.tag_member.type.value_names()]
        return self._entry(name, 'object', extra, t.features)

    def build(self):
        for ent in self.schema.entities:
            if ent.meta == 'command':
                extra = {'arg-type': self._use(ent.arg_type),
                         'ret-type': self._use(ent.ret_type)}
                if ent.allow_oob:
                    extra['allow-oob'] = True
                self.entries.append(self._entry(ent.name, 'command', extra,
                                                ent.features))
            elif ent.meta == 'event':
                self.entries.append(self._entry(
                    ent.name, 'event', {'arg-type': self._use(ent.arg_type)},
                    ent.features))
        # Describing a type may use more types: the list grows as we go.
        i = 0
        while i < len(self.pending):
            key, t = self.pending[i]
            self.entries.append(self._describe(key, t))
            i += 1
        return self.entries


def introspect(schema, unmask=False):
    """The SchemaInfo list as Python values."""
    return _Introspection(schema, unmask).build()


def gen_introspect(schema, prefix, unmask, blurb):
    fn = '%sqapi_introspect_json' % c_name(prefix)
    h = CFile(prefix + 'qapi-introspect.h', blurb)
    c = CFile(prefix + 'qapi-introspect.c', blurb)
    h.add('/*\n * The reply of query-qmp-schema: a JSON array of SchemaInfo '
          'objects, as\n * text.\n */\nconst char *%s(void);\n' % fn)
    c.add('#include "%sqapi-introspect.h"\n\n' % prefix)
    c.add('static const char schema_json[] =\n    "["\n')
    entries = introspect(schema, unmask)
    for i, e in enumerate(entries):
        text = json.dumps(e) + (',' if i + 1 < len(entries) else '')
        c.add('    %s\n' % c_string(text))
    c.add('    "]";\n\n')
    c.add('const char *%s(void)\n{\n    return schema_json;\n}\n' % fn)
    return [h, c]
