#!/usr/bin/env python3
"""Runs the QAPI generator on every bad-*.json here and checks that it
fails (exit status 1) with the message given on the file's first line,
"# expect: FILE:LINE: MESSAGE".  Prints TAP.

Usage: check-bad-schemas.py QAPI-GEN.PY
"""

import glob
import os
import subprocess
import sys


def main():
    gen = os.path.abspath(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    schemas = sorted(glob.glob(os.path.join(here, 'bad-*.json')))
    print('1..%d' % len(schemas))
    failed = 0
    for i, path in enumerate(schemas, 1):
        name = os.path.basename(path)
        with open(path, encoding='utf-8') as f:
            first = f.readline().rstrip('\n')
        prefix = '# expect: '
        expect = first[len(prefix):] if first.startswith(prefix) else None
        # Run from this directory so that messages name the file as
        # "bad-x.json:LINE".
        proc = subprocess.run([sys.executable, gen, '--check-only', name],
                              cwd=here, capture_output=True, text=True,
                              check=False)
        got = proc.stderr.strip()
        ok = expect is not None and proc.returncode == 1 and got == expect
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
        if not ok:
            failed += 1
            print('# expected exit 1 and: %s' % expect)
            print('# got exit %d and: %s' % (proc.returncode, got))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
