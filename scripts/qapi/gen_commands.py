"""qapi-commands.h/.c (handler prototypes, marshallers, qmp_init_marshal)
and qapi-events.h/.c (qapi_event_send_*)."""

from .common import CFile, c_name, c_proto, c_string
from .gen_types import decl, free_stmt, param_type
from .gen_visit import vname


def _params(ent):
    """The C parameters for the arguments of a command or event."""
    t = ent.arg_type
    if t is None:
        return []
    if ent.boxed:
        return ['%s *arg' % t.c_name()]
    out = []
    for m in t.all_members():
        if m.optional and not m.type.is_pointer():
            out.append('bool has_%s' % m.c_name())
        out.append(decl(param_type(m.type), m.c_name()))
    return out


def handler_proto(cmd):
    ret = decl(cmd.ret_type.c_type(), '') if cmd.ret_type else 'void '
    params = _params(cmd) + ['Error **errp']
    return c_proto('%sqmp_%s' % (ret, c_name(cmd.name)), params)


def _call_args(cmd):
    t = cmd.arg_type
    if t is None:
        return []
    if cmd.boxed:
        return ['arg']
    out = []
    for m in t.all_members():
        if m.optional and not m.type.is_pointer():
            out.append('arg->has_%s' % m.c_name())
        out.append('arg->%s' % m.c_name())
    return out


def _marshal_proto(cmd):
    return ('bool qmp_marshal_%s(JsonObject *args, JsonNode **ret, '
            'Error **errp)' % c_name(cmd.name))


def _marshal(cmd):
    t = cmd.arg_type
    out = _marshal_proto(cmd) + '\n{\n    Error *err = NULL;\n'
    if t is not None:
        out += '    %s *arg = g_new0(%s, 1);\n' % (t.c_name(), t.c_name())
    if cmd.ret_type is not None:
        out += '    %s;\n' % decl(cmd.ret_type.c_type(), 'retval')
    out += '    bool ok = false;\n\n'
    if t is not None:
        out += ('    if (!visit_%s_members_from_json(args, NULL, arg, errp)) {\n'
                '        goto out;\n    }\n' % t.c_name())
    else:
        out += ('    if (!qapi_check_no_members(args, NULL, errp)) {\n'
                '        goto out;\n    }\n')
    lhs = '    retval = ' if cmd.ret_type is not None else '    '
    out += lhs + c_proto('qmp_%s' % c_name(cmd.name),
                         _call_args(cmd) + ['&err'],
                         width=79 - len(lhs)).replace(
                             '\n', '\n' + ' ' * len(lhs)) + ';\n'
    free = free_stmt(cmd.ret_type, 'retval') if cmd.ret_type else None
    out += '    if (err) {\n        error_propagate(errp, err);\n'
    if free:
        out += '        %s\n' % free
    out += '        goto out;\n    }\n'
    if cmd.ret_type is not None:
        if cmd.ret_type.name == 'any':
            # The handler's value is handed on as is; NULL means {}.
            out += '    *ret = retval;\n'
        else:
            out += '    *ret = visit_%s_to_json(retval);\n' % vname(
                cmd.ret_type)
            if free:
                out += '    %s\n' % free
    else:
        out += '    *ret = NULL;\n'
    out += '    ok = true;\nout:\n'
    if t is not None:
        out += '    qapi_free_%s(arg);\n' % t.c_name()
    out += '    return ok;\n}\n\n'
    return out


def _options(cmd):
    opts = []
    if not cmd.success_response:
        opts.append('QCO_NO_SUCCESS_RESP')
    if cmd.allow_oob:
        opts.append('QCO_ALLOW_OOB')
    if cmd.allow_preconfig:
        opts.append('QCO_ALLOW_PRECONFIG')
    return ' | '.join(opts) or 'QCO_NO_OPTIONS'


def gen_commands(schema, prefix, weak, blurb):
    h = CFile(prefix + 'qapi-commands.h', blurb)
    c = CFile(prefix + 'qapi-commands.c', blurb)
    init = '%sqmp_init_marshal' % c_name(prefix)
    h.add('#include "%sqapi-types.h"\n#include "qapi/error.h"\n'
          '#include "qapi/qmp-dispatch.h"\n\n' % prefix)
    h.add('''\
/*
 * The hand-written handler of command NAME is
 *
 *   RET qmp_NAME(ARGS..., Error **errp);
 *
 * ARGS are the command's arguments in schema order: an optional argument
 * of a non-pointer type comes as "bool has_x, T x", an absent optional
 * pointer argument is NULL, str is const char *, any is JsonNode *; a
 * 'boxed' command takes the argument struct.  The arguments are borrowed
 * (freed by the caller after the handler returns).  RET is the C type of
 * 'returns', owned by the caller; void without 'returns'.  On failure the
 * handler sets errp (its return value is then ignored and freed).
 * Commands with 'gen': false have no prototype here: their QmpCommandFunc
 * is registered by hand.
 */

''')
    h.add('void %s(QmpCommandList *cmds);\n\n' % init)
    c.add('#include <glib.h>\n\n#include "qapi/qapi-util.h"\n'
          '#include "%sqapi-commands.h"\n#include "%sqapi-visit.h"\n\n'
          % (prefix, prefix))
    cmds = [cmd for cmd in schema.commands() if cmd.gen]
    for cmd in cmds:
        h.add('%s;\n' % handler_proto(cmd))
    h.add('\n')
    for cmd in cmds:
        h.add('%s;\n' % _marshal_proto(cmd))
    if weak:
        c.add('''\
/*
 * Handlers are weak references: a command whose handler is not linked in
 * is not registered (a client sees CommandNotFound) instead of breaking
 * the link.
 */
''')
        for cmd in cmds:
            c.add('extern __typeof__(qmp_%s) qmp_%s __attribute__((weak));\n'
                  % (c_name(cmd.name), c_name(cmd.name)))
        c.add('\n')
    for cmd in cmds:
        c.add(_marshal(cmd))
    c.add('void %s(QmpCommandList *cmds)\n{\n' % init)
    for cmd in cmds:
        reg = 'qmp_register_command(cmds, %s, qmp_marshal_%s,\n' \
              '                         %s);' % (
                  c_string(cmd.name), c_name(cmd.name), _options(cmd))
        if weak:
            c.add('    if (qmp_%s) {\n        %s\n    }\n'
                  % (c_name(cmd.name), reg.replace('\n', '\n    ')))
        else:
            c.add('    %s\n' % reg)
    if not cmds:
        c.add('    (void)cmds;\n')
    c.add('}\n')
    return [h, c]


# -- events ------------------------------------------------------------------

def event_proto(ev):
    params = _params(ev) or ['void']
    if ev.boxed:
        params = ['const %s *arg' % ev.arg_type.c_name()]
    return c_proto('void qapi_event_send_%s' % c_name(ev.name.lower()),
                   params)


def _event(ev):
    t = ev.arg_type
    out = event_proto(ev) + '\n{\n'
    if t is None:
        return out + '    qapi_event_emit(%s, NULL);\n}\n\n' % c_string(
            ev.name)
    if ev.boxed:
        out += '    JsonObject *data = json_object_new();\n\n'
        out += '    visit_%s_members_to_json(data, arg);\n' % t.c_name()
    else:
        out += '    %s param = {\n' % t.c_name()
        for m in t.all_members():
            if m.optional and not m.type.is_pointer():
                out += '        .has_%s = has_%s,\n' % (m.c_name(), m.c_name())
            val = m.c_name()
            if param_type(m.type) != m.type.c_type():
                val = '(%s)%s' % (m.type.c_type(), val)
            out += '        .%s = %s,\n' % (m.c_name(), val)
        out += '    };\n    JsonObject *data = json_object_new();\n\n'
        out += '    visit_%s_members_to_json(data, &param);\n' % t.c_name()
    out += '    qapi_event_emit(%s, data);\n}\n\n' % c_string(ev.name)
    return out


def gen_events(schema, prefix, blurb):
    h = CFile(prefix + 'qapi-events.h', blurb)
    c = CFile(prefix + 'qapi-events.c', blurb)
    h.add('#include "%sqapi-types.h"\n\n' % prefix)
    h.add('''\
/*
 * qapi_event_send_NAME() (NAME in lower case) builds the event's "data"
 * object from its arguments (passed as for command handlers, see
 * qapi-commands.h; borrowed) and hands it to qapi_event_emit().
 */

''')
    c.add('#include <glib.h>\n\n#include "qapi/qmp-dispatch.h"\n'
          '#include "%sqapi-events.h"\n#include "%sqapi-visit.h"\n\n'
          % (prefix, prefix))
    for ev in schema.events():
        h.add('%s;\n' % event_proto(ev))
        c.add(_event(ev))
    return [h, c]
