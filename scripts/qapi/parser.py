"""Reads QAPI schema files: the JSON-like text, comments, doc blocks,
'include' and 'pragma' (reference C.1, C.2, C.4).

The result is a list of Expr (one per definition, in source order, with
included files spliced in where they are included) and the pragmas.
"""

import os

from .common import QAPIError, SourceInfo


class QDict(dict):
    """A parsed {...}; key_info maps each key to where it was written."""

    def __init__(self):
        super().__init__()
        self.key_info = {}


class Doc:
    """A '##' documentation block.

    symbol is the name in a first line '@Name:' (None for free-form text).
    args and features map '@name:' lines to where they are; lines after a
    'Features:' line document features.
    """

    def __init__(self, info):
        self.info = info
        self.symbol = None
        self.args = {}
        self.features = {}
        self._nlines = 0
        self._in_features = False

    def add_line(self, text, info):
        first = self._nlines == 0
        self._nlines += 1
        if first:
            if text.startswith('@'):
                if not text.endswith(':') or ' ' in text:
                    raise QAPIError(info, "line '%s' should be '@NAME:'" % text)
                self.symbol = text[1:-1]
            return
        if text == 'Features:':
            self._in_features = True
            return
        if text.startswith('@'):
            colon = text.find(':')
            if colon < 2 or ' ' in text[:colon]:
                raise QAPIError(info, "line '%s' should start with '@NAME:'"
                                % text)
            name = text[1:colon]
            table = self.features if self._in_features else self.args
            if name in table:
                raise QAPIError(info, "'%s' is documented twice" % name)
            table[name] = info


class Expr:
    def __init__(self, expr, info, doc):
        self.expr = expr
        self.info = info
        self.doc = doc


class Pragmas:
    def __init__(self):
        self.doc_required = False
        self.command_name_exceptions = set()
        self.command_returns_exceptions = set()
        self.documentation_exceptions = set()
        self.member_name_exceptions = set()


_LIST_PRAGMAS = ('command-name-exceptions', 'command-returns-exceptions',
                 'documentation-exceptions', 'member-name-exceptions')


class SchemaParser:
    """Parses one schema file and, recursively, the files it includes.

    included is the set of real paths already read (each file once);
    stack the real paths of the files being read (to catch loops).
    """

    def __init__(self, fname, included=None, stack=None, pragmas=None):
        self.fname = fname
        self.included = included if included is not None else set()
        self.stack = stack if stack is not None else []
        self.pragmas = pragmas if pragmas is not None else Pragmas()
        self.exprs = []
        real = os.path.realpath(fname)
        self.included.add(real)
        self.stack.append(real)
        try:
            with open(fname, encoding='utf-8') as f:
                self.src = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise QAPIError(None, "%s: can't read schema file: %s"
                            % (fname, e))
        if not self.src.endswith('\n'):
            self.src += '\n'
        self.pos = 0
        self.line = 1
        self.tok = None
        self.val = None
        self.tok_info = None
        self._parse()
        self.stack.pop()

    # -- lexer ----------------------------------------------------------

    def _error(self, msg):
        raise QAPIError(SourceInfo(self.fname, self.line), msg)

    def _next(self, skip_comment=True):
        """Reads the next token into self.tok (None at end of input).

        Tokens are the punctuation characters themselves, "'" for a string
        (value in self.val), 't'/'f' for true/false and '#' for a comment
        line (text in self.val, returned only when not skip_comment).
        """
        src = self.src
        while True:
            if self.pos >= len(src):
                self.tok = None
                self.tok_info = SourceInfo(self.fname, self.line)
                return
            ch = src[self.pos]
            start = self.pos
            self.pos += 1
            self.tok_info = SourceInfo(self.fname, self.line)
            if ch == '\n':
                self.line += 1
            elif ch in ' \t\r':
                pass
            elif ch == '#':
                end = src.find('\n', start)
                self.pos = end
                if not skip_comment:
                    self.tok = '#'
                    self.val = src[start:end].rstrip()
                    return
            elif ch in '{}[],:':
                self.tok = ch
                return
            elif ch == "'":
                self.tok = "'"
                self.val = self._string()
                return
            elif src.startswith('true', start):
                self.pos = start + 4
                self.tok = 't'
                return
            elif src.startswith('false', start):
                self.pos = start + 5
                self.tok = 'f'
                return
            else:
                end = start
                while end < len(src) and (src[end].isalnum()
                                          or src[end] in '_-.'):
                    end += 1
                word = src[start:max(end, start + 1)]
                self._error("stray '%s'" % word)

    def _string(self):
        s = ''
        escaped = False
        while True:
            ch = self.src[self.pos]
            self.pos += 1
            if ch == '\n':
                self._error("missing terminating \"'\"")
            if escaped:
                # Only \\ exists: the schema has no use for other escapes.
                if ch != '\\':
                    self._error("unknown escape \\%s" % ch)
                escaped = False
            elif ch == '\\':
                escaped = True
                continue
            elif ch == "'":
                return s
            if ord(ch) < 32 or ord(ch) >= 127:
                self._error("funny character in string")
            s += ch

    # -- values ---------------------------------------------------------

    def _value(self):
        if self.tok is None:
            self._error("unexpected end of file")
        if self.tok == '{':
            return self._object()
        if self.tok == '[':
            return self._array()
        if self.tok == "'":
            val = self.val
            self._next()
            return val
        if self.tok in ('t', 'f'):
            val = self.tok == 't'
            self._next()
            return val
        self._error("expected '{', '[', string, or boolean")

    def _object(self, top=False):
        # After the '}' of a top-level expression, comments are tokens:
        # they may start a doc block.
        obj = QDict()
        self._next()
        if self.tok == '}':
            self._next(skip_comment=not top)
            return obj
        while True:
            if self.tok is None:
                self._error("unexpected end of file")
            if self.tok != "'":
                self._error("expected string or '}'" if not obj
                            else "expected string")
            key = self.val
            info = self.tok_info
            if key in obj:
                self._error("duplicate key '%s'" % key)
            self._next()
            if self.tok != ':':
                self._error("expected ':'")
            self._next()
            obj[key] = self._value()
            obj.key_info[key] = info
            if self.tok is None:
                self._error("unexpected end of file")
            if self.tok == '}':
                self._next(skip_comment=not top)
                return obj
            if self.tok != ',':
                self._error("expected ',' or '}'")
            self._next()

    def _array(self):
        arr = []
        self._next()
        if self.tok == ']':
            self._next()
            return arr
        while True:
            arr.append(self._value())
            if self.tok is None:
                self._error("unexpected end of file")
            if self.tok == ']':
                self._next()
                return arr
            if self.tok != ',':
                self._error("expected ',' or ']'")
            self._next()

    # -- top level ------------------------------------------------------

    def _doc_block(self):
        doc = Doc(self.tok_info)
        while True:
            self._next(skip_comment=False)
            if self.tok != '#':
                self._error("documentation comment must end with '##'")
            text = self.val
            info = self.tok_info
            if text == '##':
                self._next(skip_comment=False)
                return doc
            if text.startswith('##'):
                self._error("unexpected '##' in documentation comment")
            if len(text) > 1 and text[1] != ' ':
                self._error("missing space after #")
            doc.add_line(text[2:], info)

    def _parse(self):
        pending = None
        self._next(skip_comment=False)
        while self.tok is not None:
            if self.tok == '#':
                if not self.val.startswith('##'):
                    self._next(skip_comment=False)
                    continue
                if self.val != '##':
                    self._error("junk after '##' at start of "
                                "documentation comment")
                if pending is not None:
                    raise QAPIError(pending.info,
                                    "documentation for '%s' is not followed "
                                    "by the definition" % pending.symbol)
                doc = self._doc_block()
                if doc.symbol is not None:
                    pending = doc
                continue
            info = self.tok_info
            if self.tok != '{':
                self._error("expected '{'")
            expr = self._object(top=True)
            if 'include' in expr:
                self._check_only_key(expr, 'include', info, pending)
                self._include(expr['include'], info)
            elif 'pragma' in expr:
                self._check_only_key(expr, 'pragma', info, pending)
                self._pragma(expr['pragma'], info)
            else:
                self.exprs.append(Expr(expr, info, pending))
            pending = None
        if pending is not None:
            raise QAPIError(pending.info,
                            "documentation for '%s' is not followed by the "
                            "definition" % pending.symbol)

    def _check_only_key(self, expr, key, info, doc):
        if len(expr) != 1:
            extra = sorted(k for k in expr if k != key)
            raise QAPIError(info, "'%s' expression has unknown key '%s'"
                            % (key, extra[0]))
        if doc is not None:
            raise QAPIError(doc.info, "documentation for '%s' is not "
                            "followed by the definition" % doc.symbol)

    def _include(self, name, info):
        if not isinstance(name, str):
            raise QAPIError(info, "value of 'include' must be a string")
        path = os.path.join(os.path.dirname(self.fname), name)
        real = os.path.realpath(path)
        if real in self.stack:
            raise QAPIError(info, "inclusion loop for %s" % name)
        if real in self.included:
            return
        if not os.path.exists(path):
            raise QAPIError(info, "can't read include file '%s'" % name)
        sub = SchemaParser(path, self.included, self.stack, self.pragmas)
        self.exprs.extend(sub.exprs)

    def _pragma(self, pragma, info):
        if not isinstance(pragma, dict):
            raise QAPIError(info, "value of 'pragma' must be an object")
        for name, value in pragma.items():
            if name == 'doc-required':
                if not isinstance(value, bool):
                    raise QAPIError(info, "pragma 'doc-required' must be "
                                    "boolean")
                self.pragmas.doc_required = value
            elif name in _LIST_PRAGMAS:
                if not isinstance(value, list) \
                        or not all(isinstance(v, str) for v in value):
                    raise QAPIError(info, "pragma %s must be a list of "
                                    "strings" % name)
                attr = name.replace('-', '_')
                getattr(self.pragmas, attr).update(value)
            else:
                raise QAPIError(info, "unknown pragma '%s'" % name)
