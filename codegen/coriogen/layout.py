# SPDX-License-Identifier: MIT
"""Frame layout: fields whose lifetimes cannot overlap share storage.

Every frame field has a scope: a block (the variables it declares, the
compound literals written in it), a `for` statement (variables of its
init clause), or a statement (the await results and operator values it
computes); parameters have none and live as long as the frame.  Two
scopes whose source ranges do not nest are never active at once (one
frame runs one statement at a time), so their fields may overlap.

The scopes form a tree by containment.  A scope's fields come first, then
its children: one child is laid out in line, several share an anonymous
union of anonymous structs.  Anonymous members keep every field's name,
so `corio_self->x` (and `p corio_self->x` in gdb) work unchanged.
"""


class Field:
    """One frame field: its declaration (no ';'), size, alignment and
    scope, a (start, end) source range or None for the whole frame."""

    def __init__(self, decl, size, align, scope):
        self.decl = decl
        self.size = max(size, 0)
        self.align = max(align, 1)
        self.scope = scope


def _align_up(n, a):
    return (n + a - 1) // a * a


def _members(fields):
    """The member tree: a list of Field and ("union", [member lists])."""
    root = []
    scoped = {}
    for f in fields:
        if f.scope is None:
            root.append(f)
        else:
            scoped.setdefault(f.scope, []).append(f)
    # Parents come before their children: sort by start, longest first.
    order = sorted(scoped, key=lambda s: (s[0], -s[1]))
    children = {None: []}
    stack = []
    for scope in order:
        while stack and not (stack[-1][0] <= scope[0] and
                             scope[1] <= stack[-1][1]):
            stack.pop()
        children[stack[-1] if stack else None].append(scope)
        children[scope] = []
        stack.append(scope)

    def build(own, scope):
        members = list(own)
        kids = [build(scoped[k], k) for k in children[scope]]
        kids = [k for k in kids if k]
        if len(kids) == 1:
            members.extend(kids[0])
        elif kids:
            members.append(("union", kids))
        return members
    return build(root, None)


def _size_align(member):
    if isinstance(member, Field):
        return member.size, member.align
    sizes = [_struct_size_align(m) if len(m) > 1 else _size_align(m[0])
             for m in member[1]]
    align = max(a for _, a in sizes)
    return _align_up(max(s for s, _ in sizes), align), align


def _struct_size_align(members, offset=0, align=1):
    for m in members:
        size, a = _size_align(m)
        offset = _align_up(offset, a) + size
        align = max(align, a)
    return _align_up(offset, align), align


def _lines(members, depth):
    tabs = "\t" * depth
    out = []
    for m in members:
        if isinstance(m, Field):
            out.append("%s%s;" % (tabs, m.decl))
            continue
        out.append(tabs + "union {")
        for kid in m[1]:
            if len(kid) == 1:
                out.extend(_lines(kid, depth + 1))
            else:
                out.append(tabs + "\tstruct {")
                out.extend(_lines(kid, depth + 2))
                out.append(tabs + "\t};")
        out.append(tabs + "};")
    return out


def frame_layout(fields, header_size, share=True):
    """(lines, size): the field lines of the frame struct after its header
    (`struct corio_frame hdr;`, @header_size bytes) and sizeof the struct.
    Without @share every field gets storage of its own."""
    members = _members(fields) if share else list(fields)
    size, _ = _struct_size_align(members, header_size, 8)
    if share:
        flat_lines, flat_size = frame_layout(fields, header_size, False)
        if flat_size <= size:   # nothing to share, or padding ate it
            return flat_lines, flat_size
    return _lines(members, 1), size


def _type_size_align(t, is_param=False):
    """Size and alignment of a field of libclang type @t (a parameter
    declared as an array or a function is a pointer)."""
    if t is None:
        return 4, 4                             # the int of && and ||
    if is_param and t.kind.name in ("CONSTANTARRAY", "INCOMPLETEARRAY",
                                    "FUNCTIONPROTO"):
        return 8, 8
    return t.get_size(), t.get_align()


def _declared_align(decl, align):
    """A field's alignment, counting a literal alignas(N)/aligned(N) in
    its declaration."""
    words = decl.replace("(", " ").replace(")", " ").split()
    for i, word in enumerate(words[:-1]):
        if word in ("_Alignas", "aligned", "__aligned__") and \
                words[i + 1].isdigit():
            return max(align, int(words[i + 1]))
    return align


def function_fields(fn, result_decl):
    """Every frame field of AsyncFunction @fn after the header, with its
    scope; @result_decl declares the result slot (None for void)."""
    fields = []
    if result_decl:
        fields.append(Field(result_decl, 8, 8, None))
    for var in fn.params + fn.locals:
        size, align = _type_size_align(var.type, var.is_param)
        fields.append(Field(var.decl_text, size,
                            _declared_align(var.decl_text, align),
                            var.scope))
    for _, decl, t, scope in fn.temps:
        fields.append(Field(decl, *_type_size_align(t), scope))
    for _, decl, t, scope in fn.literals:
        fields.append(Field(decl, *_type_size_align(t), scope))
    return fields


def size_without_sharing(fields, fn, header_size):
    """sizeof the frame if every local were in it, unshared (as before
    layout by liveness)."""
    extra = [Field("", *_type_size_align(t), None) for t in fn.stack_locals]
    return frame_layout(fields + extra, header_size, False)[1]
