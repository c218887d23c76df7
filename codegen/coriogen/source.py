# SPDX-License-Identifier: MIT
"""Byte-exact access to the main file and the small scanners that read what
libclang 14 does not expose: operator tokens, for-loop clauses, comments.

libclang offsets are byte offsets, so everything here works on bytes.
"""


class SourceFile:
    """The main file's bytes plus offset <-> line arithmetic."""

    def __init__(self, path, data):
        self.path = path
        self.data = data
        self.text = data.decode("utf-8", errors="surrogateescape")
        # libclang offsets are byte offsets; keep a parallel str only when
        # the file is pure ASCII, otherwise slice bytes and decode.
        self._ascii = len(self.text) == len(data)
        self._line_starts = [0]
        for i, byte in enumerate(data):
            if byte == 0x0A:
                self._line_starts.append(i + 1)

    def slice(self, start, end):
        if self._ascii:
            return self.text[start:end]
        return self.data[start:end].decode("utf-8", errors="surrogateescape")

    def line_of(self, offset):
        """1-based line of a byte offset."""
        lo, hi = 0, len(self._line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def col_of(self, offset):
        return offset - self._line_starts[self.line_of(offset) - 1] + 1

    def line_start(self, line):
        return self._line_starts[line - 1]

    def word_at(self, offset):
        """The identifier starting at @offset ("" if none)."""
        end = offset
        data = self.data
        while end < len(data) and (data[end:end + 1].isalnum() or
                                   data[end:end + 1] == b"_"):
            end += 1
        return self.slice(offset, end)

    def balanced_parens(self, offset):
        """End of the parenthesised group starting at or after @offset
        (blanks skipped), or @offset itself when none follows."""
        i = self.skip_space(offset)
        data = self.data
        if data[i:i + 1] != b"(":
            return offset
        depth = 0
        while i < len(data):
            ch = data[i:i + 1]
            if ch == b"(":
                depth += 1
            elif ch == b")":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return offset

    def skip_space(self, offset):
        """First offset at or after @offset that is not blank or a comment."""
        data = self.data
        n = len(data)
        while offset < n:
            ch = data[offset:offset + 1]
            if ch in (b" ", b"\t", b"\n", b"\r", b"\f", b"\v"):
                offset += 1
            elif data.startswith(b"/*", offset):
                end = data.find(b"*/", offset + 2)
                offset = n if end < 0 else end + 2
            elif data.startswith(b"//", offset):
                end = data.find(b"\n", offset)
                offset = n if end < 0 else end
            elif data.startswith(b"\\\n", offset):
                offset += 2
            else:
                break
        return offset


class Position:
    """A location in the main file, shaped like a libclang location."""

    def __init__(self, source, offset):
        self.file = source.path
        self.offset = offset
        self.line = source.line_of(offset)
        self.column = source.col_of(offset)


def for_parts(source, node, with_offsets=False):
    """Split a FOR_STMT's children into (init, cond, inc, body), plus with
    @with_offsets the offsets of the header's two semicolons and closing
    parenthesis.

    libclang omits empty clauses, so the clauses are told apart by where
    they sit relative to the two semicolons of the header.
    """
    data = source.data
    start = node.extent.start.offset
    paren = data.index(b"(", start)
    semis = []
    depth = 0
    i = paren
    n = len(data)
    while i < n:
        ch = data[i:i + 1]
        if data.startswith(b"/*", i):
            i = data.index(b"*/", i + 2) + 2
            continue
        if data.startswith(b"//", i):
            i = data.index(b"\n", i)
            continue
        if ch in (b'"', b"'"):
            j = i + 1
            while j < n and data[j:j + 1] != ch:
                j += 2 if data[j:j + 1] == b"\\" else 1
            i = j + 1
            continue
        if ch in (b"(", b"[", b"{"):
            depth += 1
        elif ch in (b")", b"]", b"}"):
            depth -= 1
            if depth == 0:
                break
        elif ch == b";" and depth == 1:
            semis.append(i)
        i += 1
    close = i
    kids = list(node.get_children())
    body = kids[-1]
    init = cond = inc = None
    for kid in kids[:-1]:
        off = kid.extent.start.offset
        if off < semis[0]:
            init = kid
        elif off < semis[1]:
            cond = kid
        elif off < close:
            inc = kid
    if with_offsets:
        return init, cond, inc, body, (semis[0], semis[1], close)
    return init, cond, inc, body


def operator_between(source, left, right):
    """The operator token between two operands (libclang 14 has no API)."""
    text = source.slice(left.extent.end.offset, right.extent.start.offset)
    out = []
    i = 0
    while i < len(text):
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = len(text) if j < 0 else j + 2
        elif text[i].isspace() or text[i] in "()" or text[i].isalnum() \
                or text[i] == "_":
            i += 1          # blanks, parens and an await keyword
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


FALLTHROUGH = "fallthrough"


def comments_before(source, offset):
    """Normalised text of the comments right before @offset (lower case,
    letters only), e.g. "fallthrough" for `/* Fall through. */`."""
    data = source.data
    i = offset
    found = []
    while True:
        j = i
        while j > 0 and data[j - 1:j] in (b" ", b"\t", b"\n", b"\r"):
            j -= 1
        if data[j - 2:j] == b"*/":
            k = data.rfind(b"/*", 0, j - 2)
            if k < 0:
                break
            found.append(data[k:j])
            i = k
            continue
        line_start = data.rfind(b"\n", 0, j) + 1
        k = data.find(b"//", line_start, j)
        if k >= 0 and b'"' not in data[line_start:k]:
            found.append(data[k:j])
            i = k
            continue
        break
    text = b" ".join(found).decode("utf-8", "replace").lower()
    return "".join(ch for ch in text if ch.isalpha())
