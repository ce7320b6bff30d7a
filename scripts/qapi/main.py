"""Command line of the QAPI generator."""

import argparse
import os
import sys

from .common import QAPIError
from .gen_commands import gen_commands, gen_events
from .gen_introspect import gen_introspect
from .gen_types import gen_builtin_types, gen_types
from .gen_visit import gen_builtin_visit, gen_visit
from .schema import Schema


def main(argv=None):
    ap = argparse.ArgumentParser(
        description='Generate C code from a QAPI schema.')
    ap.add_argument('-o', '--output-dir', default='.',
                    help='directory for the generated files')
    ap.add_argument('-p', '--prefix', default='',
                    help="prefix of the file names and of the schema-wide "
                    "functions (e.g. 'test-')")
    ap.add_argument('-b', '--builtins', action='store_true',
                    help='also generate the code of the built-in types '
                    '(qapi-builtin-*), which every other schema uses')
    ap.add_argument('-D', '--define', action='append', default=[],
                    metavar='SYMBOL',
                    help="config symbol that is true in 'if' conditions")
    ap.add_argument('-u', '--unmask-non-abi-names', action='store_true',
                    help='do not mask type names in introspection')
    ap.add_argument('--weak-handlers', action='store_true',
                    help='register only the commands whose handler is '
                    'linked in')
    ap.add_argument('--check-only', action='store_true',
                    help='check the schema, generate nothing')
    ap.add_argument('schema')
    args = ap.parse_args(argv)

    try:
        schema = Schema(args.schema, args.define)
    except QAPIError as e:
        print(e, file=sys.stderr)
        return 1
    if args.check_only:
        return 0

    blurb = 'Generated from the QAPI schema %s' % os.path.basename(
        args.schema)
    files = []
    if args.builtins:
        files += gen_builtin_types(schema, blurb)
        files += gen_builtin_visit(schema, blurb)
    files += gen_types(schema, args.prefix, args.builtins, blurb)
    files += gen_visit(schema, args.prefix, args.builtins, blurb)
    files += gen_commands(schema, args.prefix, args.weak_handlers, blurb)
    files += gen_events(schema, args.prefix, blurb)
    files += gen_introspect(schema, args.prefix,
                            args.unmask_non_abi_names, blurb)
    os.makedirs(args.output_dir, exist_ok=True)
    for f in files:
        f.write(args.output_dir)
    return 0
