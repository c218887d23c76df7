# SPDX-License-Identifier: MIT
"""Tests of tools/corio-trace-render: reading traces, listing, windows,
deadlock graphs, drawing (needs matplotlib), and end to end on traces the
samples write (CORIO_SAMPLES_DIR: a build's samples/ directory)."""
import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "corio-trace-render")


def load_tool():
    loader = importlib.machinery.SourceFileLoader("corio_trace_render", TOOL)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


ctr = load_tool()

try:
    import matplotlib  # noqa: F401
    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False

SAMPLES = os.environ.get("CORIO_SAMPLES_DIR")


def meta(pid, tid, what, name):
    e = {"ph": "M", "pid": pid, "name": what, "args": {"name": name}}
    if tid is not None:
        e["tid"] = tid
    return e


def synthetic():
    """A loop with two tasks: every kind of event the tool reads."""
    ev = [
        meta(1, None, "process_name", "loop 1 (thread 7, epoll)"),
        meta(1, 0, "thread_name", "loop"),
        meta(1, 1, "thread_name", "worker #1 (a.c:3)"),
        meta(1, 2, "thread_name", "sleeper #2 (a.c:4)"),
        {"ph": "X", "pid": 1, "tid": 0, "ts": 0, "dur": 10,
         "name": "run ready tasks"},
        {"ph": "X", "pid": 1, "tid": 0, "ts": 10, "dur": 90,
         "name": "submit and wait"},
        {"ph": "X", "pid": 1, "tid": 0, "ts": 100, "dur": 1,
         "name": "reap completions"},
        {"ph": "X", "pid": 1, "tid": 0, "ts": 101, "dur": 99,
         "name": "run ready tasks"},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 1, "dur": 2,
         "name": "worker:10 recv", "args": {"on": "io", "waits": "recv"}},
        {"ph": "b", "pid": 1, "tid": 1, "ts": 3, "cat": "io", "id": 5,
         "name": "recv", "args": {"fd": 5, "len": 64}},
        {"ph": "s", "pid": 1, "tid": 0, "ts": 100.5, "cat": "wake",
         "id": 9, "name": "wake"},
        {"ph": "e", "pid": 1, "tid": 1, "ts": 100.5, "cat": "io", "id": 5,
         "name": "recv", "args": {"res": 4}},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 101, "dur": 1,
         "name": "worker:12 blocking call",
         "args": {"on": "blocking call", "waits": "blocking call"}},
        {"ph": "f", "pid": 1, "tid": 1, "ts": 101.001, "bp": "e",
         "cat": "wake", "id": 9, "name": "wake"},
        {"ph": "i", "pid": 1, "tid": 1, "ts": 101.5, "s": "t",
         "name": "stall", "args": {"ran_ms": 50}},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 150, "dur": 2,
         "name": "worker returns", "args": {"status": 0}},
        {"ph": "X", "pid": 1, "tid": 2, "ts": 5, "dur": 1,
         "name": "sleeper:7 sleep", "args": {"on": "sleep",
                                              "waits": "sleep"}},
        {"ph": "b", "pid": 1, "tid": 2, "ts": 6, "cat": "timer", "id": 77,
         "name": "sleep"},
        {"ph": "e", "pid": 1, "tid": 2, "ts": 60, "cat": "timer", "id": 77,
         "name": "sleep", "args": {"fired": True}},
        {"ph": "i", "pid": 1, "tid": 0, "ts": 190, "s": "p",
         "name": "deadlock: await cycle",
         "args": {"report": "DEADLOCK", "dot": "digraph d { a -> b; }\n"}},
    ]
    return {"traceEvents": ev}


class Model(unittest.TestCase):
    def setUp(self):
        self.trace = ctr.Trace(synthetic())
        self.loop = self.trace.loops[1]

    def test_loops_tasks_and_names(self):
        self.assertEqual(list(self.trace.loops), [1])
        self.assertEqual(self.loop.name, "loop 1 (thread 7, epoll)")
        self.assertEqual(sorted(self.loop.tasks), [1, 2])
        self.assertEqual(self.loop.tasks[1].name, "worker #1 (a.c:3)")
        self.assertEqual((self.loop.first, self.loop.last), (0, 200))

    def test_steps_phases_and_slices(self):
        w, s = self.loop.tasks[1], self.loop.tasks[2]
        self.assertEqual([x[2] for x in w.steps],
                         ["worker:10 recv", "worker:12 blocking call",
                          "worker returns"])
        self.assertEqual(w.ios, [(3, 100.5, "recv fd 5 = 4")])
        self.assertEqual(s.sleeps, [(6, 60, True)])
        self.assertEqual(len(self.loop.phases), 4)
        self.assertEqual(w.stalls, [(101.5, "stall")])

    def test_waits_other_than_io_and_sleep(self):
        self.assertEqual(self.loop.tasks[1].waits(),
                         [(102, 150, "blocking call")])
        self.assertEqual(self.loop.tasks[2].waits(), [])

    def test_flows_pair_start_and_end(self):
        self.assertEqual(self.trace.flows, [(1, 0, 100.5, 1, 101.001)])

    def test_deadlock_reports(self):
        reports = self.trace.deadlock_reports()
        self.assertEqual(len(reports), 1)
        self.assertTrue(reports[0]["dot"].startswith("digraph"))

    def test_unmatched_end_is_ignored(self):
        doc = synthetic()
        doc["traceEvents"].append({"ph": "e", "pid": 1, "tid": 1, "ts": 5,
                                   "cat": "io", "id": 99, "name": "read"})
        self.assertEqual(len(ctr.Trace(doc).loops[1].tasks[1].ios), 1)

    def test_not_a_trace(self):
        with self.assertRaises(ctr.TraceError):
            ctr.Trace({"events": []})

    def test_listing(self):
        lines = ctr.listing(self.trace)
        self.assertEqual(len(lines), 1)
        self.assertIn("loop 1: loop 1 (thread 7, epoll); 0.2 ms; 2 tasks",
                      lines[0])
        self.assertIn("1 deadlock report(s)", lines[0])

    def test_window_keeps_active_tasks(self):
        tasks = ctr.rows_of(self.loop, 70, 99, 24)
        self.assertEqual([t.tid for t in tasks], [1])   # recv in flight
        busiest = ctr.rows_of(self.loop, 0, 200, 1)
        self.assertEqual([t.tid for t in busiest], [1])


class Cli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, "t.json")
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(synthetic(), f)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_main(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            rc = ctr.main(list(argv))
        return rc, out.getvalue(), err.getvalue()

    def test_deadlock_dot(self):
        rc, out, _ = self.run_main(self.path, "--deadlock-dot")
        self.assertEqual(rc, 0)
        self.assertEqual(out, "digraph d { a -> b; }\n")
        rc, _, err = self.run_main(self.path, "--deadlock-dot", "1")
        self.assertEqual(rc, 1)
        self.assertIn("no deadlock report 1 (the trace has 1)", err)

    def test_errors_are_messages(self):
        rc, _, err = self.run_main(os.path.join(self.dir, "none.json"),
                                   "--list")
        self.assertEqual(rc, 1)
        self.assertIn("No such file", err)
        bad = os.path.join(self.dir, "bad.json")
        with open(bad, "w", encoding="utf-8") as f:
            f.write('{"traceEvents": [')
        rc, _, err = self.run_main(bad, "--list")
        self.assertEqual(rc, 1)
        self.assertIn("not JSON", err)
        rc, _, err = self.run_main(self.path)
        self.assertEqual(rc, 1)
        self.assertIn("-o OUTPUT", err)

    @unittest.skipUnless(HAVE_MPL, "matplotlib is not installed")
    def test_unknown_loop_and_empty_window(self):
        out = os.path.join(self.dir, "x.png")
        rc, _, err = self.run_main(self.path, "-o", out, "--loop", "9")
        self.assertEqual(rc, 1)
        self.assertIn("no loop 9", err)
        rc, _, err = self.run_main(self.path, "-o", out, "--from", "5",
                                   "--to", "1")
        self.assertEqual(rc, 1)
        self.assertIn("empty window", err)

    @unittest.skipUnless(HAVE_MPL, "matplotlib is not installed")
    def test_png_and_svg(self):
        png = os.path.join(self.dir, "t.png")
        svg = os.path.join(self.dir, "t.svg")
        self.assertEqual(self.run_main(self.path, "-o", png, "--flows")[0],
                         0)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertEqual(self.run_main(self.path, "-o", svg,
                                       "--title", "a title")[0], 0)
        text = "".join(ET.parse(svg).getroot().itertext())
        # matplotlib draws text as paths; their ids keep the strings.
        with open(svg, encoding="utf-8") as f:
            raw = f.read()
        self.assertTrue("worker #1" in text or "worker #1" in raw)
        self.assertTrue("a title" in text or "a title" in raw)


def run_sample(name, args, trace, backend):
    env = dict(os.environ, CORIO_TRACE=trace, CORIO_BACKEND=backend)
    return subprocess.run([os.path.join(SAMPLES, name)] + args, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120, check=False)


@unittest.skipUnless(SAMPLES, "CORIO_SAMPLES_DIR is not set")
class EndToEnd(unittest.TestCase):
    backend = os.environ.get("CORIO_BACKEND", "uring")

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_head_of_line(self):
        trace = os.path.join(self.dir, "hol.json")
        p = run_sample("head_of_line", ["-d", "200"], trace, self.backend)
        self.assertEqual(p.returncode, 0, p.stderr)
        t = ctr.load(trace)
        # The nested-loop demo, then a server and a client per variant.
        self.assertEqual(len(t.loops), 7)
        servers = [p for p, lp in t.loops.items()
                   if any(x.name.startswith("acceptor #")
                          for x in lp.tasks.values())]
        self.assertEqual(len(servers), 3)
        blocked = t.loops[servers[0]]
        stalls = [s for x in blocked.tasks.values() for s in x.stalls]
        # As many stall marks as the watchdog reported (the last column
        # of the sample's row for the variant; whether it catches a
        # 100 ms step with its 50 ms threshold depends on timing).
        row = [ln for ln in p.stdout.decode().splitlines()
               if ln.startswith("(a)")]
        self.assertEqual(len(row), 1, p.stdout)
        self.assertEqual(len(stalls), int(row[0].split()[-1]))
        longest = max(e - b for x in blocked.tasks.values()
                      for b, e, _ in x.steps)
        self.assertGreater(longest, 90000, "a 100 ms step")
        offloaded = t.loops[servers[1]]
        waits = [w for x in offloaded.tasks.values() for w in x.waits()
                 if w[2] == "blocking call"]
        self.assertTrue(waits, "the offloaded variant waits on the pool")
        if HAVE_MPL:
            out = os.path.join(self.dir, "hol.png")
            ctr.render(t, out, loops=servers[:2])
            self.assertGreater(os.path.getsize(out), 10000)

    def test_deadlock_graph(self):
        trace = os.path.join(self.dir, "dl.json")
        p = run_sample("deadlock", [], trace, self.backend)
        self.assertEqual(p.returncode, 1, p.stderr)
        reports = ctr.load(trace).deadlock_reports()
        self.assertEqual(len(reports), 2, "a cycle, then a global one")
        self.assertIn("write_entry", reports[0]["report"])
        dot = shutil.which("dot")
        if dot:
            svg = subprocess.run([dot, "-Tsvg"], input=reports[0]["dot"],
                                 stdout=subprocess.PIPE, text=True,
                                 check=True).stdout
            self.assertIn("<svg", svg)


if __name__ == "__main__":
    sys.exit(unittest.main())
