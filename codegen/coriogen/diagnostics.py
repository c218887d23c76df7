# SPDX-License-Identifier: MIT
"""Diagnostics: `path:line:col: error: message [id]`, collected, then raised.

Every check reports all the errors it finds before the tool stops, so a
user fixes a file in one round; nothing is written when any error exists.
"""


class Diagnostic:
    """One message about a position in a source file."""

    def __init__(self, path, line, col, message, ident, severity="error"):
        self.path = path
        self.line = line
        self.col = col
        self.message = message
        self.ident = ident
        self.severity = severity

    def format(self):
        suffix = " [%s]" % self.ident if self.ident else ""
        return "%s:%d:%d: %s: %s%s" % (self.path, self.line, self.col,
                                       self.severity, self.message, suffix)


class CodegenError(Exception):
    """The input cannot be transformed; carries every diagnostic found."""

    def __init__(self, diagnostics):
        super().__init__("%d error(s)" % len(diagnostics))
        self.diagnostics = diagnostics


class DiagnosticSink:
    """Collects diagnostics in a check phase; raise_if_any() ends the phase."""

    def __init__(self, path_for):
        # path_for(location) -> the path to print for a libclang location.
        self._path_for = path_for
        self._seen = set()
        self.items = []

    def error(self, location, message, ident):
        self.add(Diagnostic(self._path_for(location), location.line,
                            location.column, message, ident))

    def note(self, location, message):
        self.add(Diagnostic(self._path_for(location), location.line,
                            location.column, message, None, "note"))

    def add(self, diag):
        key = diag.format()
        if key not in self._seen:   # one macro may be reached many times
            self._seen.add(key)
            self.items.append(diag)

    def has_errors(self):
        return any(d.severity == "error" for d in self.items)

    def raise_if_any(self):
        if self.has_errors():
            raise CodegenError(list(self.items))
