# SPDX-License-Identifier: MIT
"""Random async programs for the differential oracle.

Each seed gives one async function with nested loops, if, switch (with
fall-through), forward gotos, break and continue, and awaits in
conditions, increments, initialisers and operands, including the lazily
evaluated operands of &&, || and ?: and after a comma operator; blocks
declare locals that shadow the function's, and arrays initialised with
awaits.  Every loop has its
own counter that only grows, so every program terminates; values stay
small so no signed arithmetic overflows.  The function folds everything it
computes into a checksum, and prints it at a few checkpoints, so a
lowering mistake changes the output.

    python3 randprog.py SEED [COUNT]   prints a program (for debugging)
"""

import random
import sys

PRELUDE = """\
#include <stdio.h>
#include <corio/await.h>

async int id(int v)
{
\tawait corio_yield();
\treturn v;
}
"""

VARS = ("a", "b", "c")


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.loops = 0
        self.labels = 0
        self.arrays = 0
        self.checkpoints = 0

    def chance(self, p):
        return self.rng.random() < p

    def atom(self, allow_await, avoid=None):
        r = self.rng.random()
        if allow_await and r < 0.3:
            return "await id(%s)" % self.atom(False, avoid)
        if r < 0.6:
            return self.rng.choice([v for v in VARS if v != avoid])
        return str(self.rng.randint(0, 9))

    def expr(self, allow_await=True, avoid=None):
        """@avoid: a variable being declared, which its own initialiser
        must not read."""
        n = self.rng.randint(1, 3)
        parts = [self.atom(allow_await, avoid) for _ in range(n)]
        ops = [self.rng.choice(("+", "-", "*")) for _ in range(n - 1)]
        text = parts[0]
        for op, part in zip(ops, parts[1:]):
            text += " %s %s" % (op, part)
        return "(%s) %% 100" % text

    def cond(self):
        r = self.rng.random()
        left = "(%s)" % self.expr()
        right = str(self.rng.randint(-20, 60))
        comparison = "%s %s %s" % (left, self.rng.choice(
            ("<", ">", "<=", ">=", "==", "!=")), right)
        if r < 0.2:
            # Awaits on either side of && and ||: the right one may only
            # run when C evaluates it.
            return "(%s) %s (%s > 10)" % (comparison, self.rng.choice(
                ("&&", "||")), self.atom(True))
        if r < 0.3:
            return "(%s ? %s : %s) > 20" % (comparison, self.atom(True),
                                            self.atom(True))
        return comparison

    def block(self, depth, indent, in_loop):
        count = self.rng.randint(1, 3)
        lines = []
        for _ in range(count):
            lines += self.stmt(depth, indent, in_loop)
        return lines

    def stmt(self, depth, indent, in_loop):
        t = "\t" * indent
        r = self.rng.random()
        if depth >= 2 or r < 0.35:
            var = self.rng.choice(VARS)
            if self.chance(0.3):
                return [t + "%s = %s;" % (var, self.expr()),
                        t + "sum = sum * 31u + (unsigned)%s;" % var]
            if self.chance(0.15):
                # The comma operator: its left operand runs first.
                return [t + "sum = sum * 31u + (unsigned)(c = (c + 1) %% 50, "
                        "%s);" % self.expr()]
            return [t + "sum = sum * 31u + (unsigned)(%s);" % self.expr()]
        if r < 0.45:
            self.checkpoints += 1
            return [t + 'printf("%d.%d: %%u\\n", sum);'
                    % (self.seed, self.checkpoints)]
        if r < 0.57:
            out = [t + "if (%s) {" % self.cond()]
            out += self.block(depth + 1, indent + 1, in_loop)
            if self.chance(0.5):
                out.append(t + "} else {")
                out += self.block(depth + 1, indent + 1, in_loop)
            return out + [t + "}"]
        if r < 0.67 and in_loop:
            word = self.rng.choice(("break", "continue"))
            return [t + "if (%s)" % self.cond(), t + "\t%s;" % word]
        if r < 0.77:
            return self.loop(depth, indent)
        if r < 0.82:
            return self.switch(depth, indent, in_loop)
        if r < 0.87:
            return self.scope(depth, indent, in_loop)
        self.labels += 1
        label = "skip_%d" % self.labels
        out = [t + "if (%s)" % self.cond(), t + "\tgoto %s;" % label]
        out += self.block(depth + 1, indent, in_loop)
        return out + ["%s:" % label, t + "sum += 7u;"]

    def loop(self, depth, indent):
        t = "\t" * indent
        self.loops += 1
        n = "l%d" % self.loops
        bound = self.rng.randint(1, 4)
        kind = self.rng.choice(("for", "while", "do"))
        aw = self.chance(0.5)
        limit = "await id(%d)" % bound if aw else str(bound)
        body = self.block(depth + 1, indent + 1, True)
        if kind == "for":
            step = "%s += await id(1)" % n if self.chance(0.4) else n + "++"
            start = "await id(0)" if self.chance(0.3) else "0"
            return [t + "for (%s = %s; %s < %s; %s) {" % (
                n, start, n, limit, step)] + body + [t + "}"]
        if kind == "while":
            # The counter moves first, so a continue cannot loop forever.
            return [t + "%s = 0;" % n, t + "while (%s < %s) {" % (n, limit),
                    t + "\t%s++;" % n] + body + [t + "}"]
        return [t + "%s = 0;" % n, t + "do {", t + "\t%s++;" % n] + body + \
            [t + "} while (%s < %s);" % (n, limit)]

    def scope(self, depth, indent, in_loop):
        """A block whose locals shadow the function's and hold arrays
        initialised with awaits: renaming and hoisting at work."""
        t = "\t" * indent
        self.arrays += 1
        var = self.rng.choice(VARS)
        arr = "arr%d" % self.arrays
        out = [t + "{",
               t + "\tint %s = %s, %s[3] = {%s, %s, %s};" % (
                   var, self.expr(avoid=var), arr, self.atom(True),
                   self.atom(True),
                   self.atom(False)),
               t + "\tsum = sum * 31u + (unsigned)(%s[0] + %s[2] + %s);" % (
                   arr, arr, var)]
        out += self.block(depth + 1, indent + 1, in_loop)
        return out + [t + "\tsum = sum * 31u + (unsigned)%s;" % var, t + "}"]

    def switch(self, depth, indent, in_loop):
        t = "\t" * indent
        out = [t + "switch ((%s + 100) %% 4) {" % self.expr()]
        for case in ("case 0:", "case 1:", "case 2:", "default:"):
            out.append(t + case)
            out += self.block(depth + 1, indent + 1, in_loop)
            if case != "default:":
                if self.chance(0.7):
                    out.append(t + "\tbreak;")
                else:
                    out.append(t + "\t/* fall through */")
        return out + [t + "}"]

    def function(self, name):
        body = self.block(0, 1, False)
        decls = ["\tunsigned sum = %du;" % self.seed,
                 "\tint a = %d, b = %d, c = await id(%d);" % (
                     self.rng.randint(0, 9), self.rng.randint(0, 9),
                     self.rng.randint(0, 9))]
        if self.loops:
            decls.append("\tint %s;" % ", ".join(
                "l%d" % (i + 1) for i in range(self.loops)))
        return ["async unsigned %s(void)" % name, "{"] + decls + [""] + \
            body + ['\tprintf("%d: %%u %%d %%d %%d\\n", sum, a, b, c);'
                    % self.seed, "\treturn sum;", "}", ""]


def program(first_seed, count):
    """A test case file with @count random functions and a test_main."""
    lines = [PRELUDE]
    names = []
    for seed in range(first_seed, first_seed + count):
        name = "random_%d" % seed
        names.append(name)
        lines += Generator(seed).function(name)
    lines += ["async int test_main(void)", "{", "\tunsigned total = 0;", ""]
    for name in names:
        lines.append("\ttotal = total * 17u + await %s();" % name)
    lines += ["\treturn (int)(total & 0x7fffffff);", "}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    first = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    sys.stdout.write(program(first, count))
