#!/usr/bin/env python3
"""Generates C types, JSON visitors, QMP marshallers, event senders and
introspection data from a QAPI schema (the language of QEMU's qapi/*.json;
see scripts/qapi/ for what is checked and generated).

Usage: qapi-gen.py [-o DIR] [-p PREFIX] [-b] [-D SYMBOL]... SCHEMA.json
Schema errors are printed as "file:line: message"; the exit status is 1.
"""

import os
import sys

# Keep the source tree free of __pycache__ directories.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qapi.main import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
