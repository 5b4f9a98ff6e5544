#!/usr/bin/env python3
"""The rules ARCHITECTURE.md states, checked on the source tree (run by CTest):

  layering  ingest/, detect/ and sinks/ include only core/ (and proto/) besides themselves;
            core/ includes only core/ and proto/. app/, tests/ and bench/ may include anything.
  clock     no real-clock call (absl::Now, std::chrono ...::now, time(), clock_gettime,
            gettimeofday) outside core/clock.cc: everything else asks a Clock, so tests run on
            a FakeClock and detectors never read time at all.

  check_tree.py [ROOT]       exits 1 listing every violation as FILE:LINE: rule: what
  check_tree.py --self-test  plants one violation of each rule in a scratch tree and fails
                             unless both are caught (a check that cannot fail is no check)
"""
import os
import re
import sys
import tempfile

ALLOWED = {
    "core": {"core", "proto"},
    "ingest": {"core", "proto", "ingest"},
    "detect": {"core", "proto", "detect"},
    "sinks": {"core", "proto", "sinks"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
CLOCK = re.compile(
    r"\babsl::Now\s*\(|\b(system_clock|steady_clock|high_resolution_clock)::now\s*\(|"
    r"\bclock_gettime\s*\(|\bgettimeofday\s*\(|(?<![\w.:>])time\s*\(\s*(nullptr|NULL|0)\s*\)")
CLOCK_HOME = {os.path.join("core", "clock.cc")}
SOURCE = (".cc", ".h")


def violations(root):
    found = []
    for stage in sorted(ALLOWED):
        base = os.path.join(root, stage)
        for folder, _, files in os.walk(base):
            for name in sorted(files):
                if not name.endswith(SOURCE):
                    continue
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if m and m.group(1) in ALLOWED.keys() | {"app", "bench", "tests"} \
                                and m.group(1) not in ALLOWED[stage]:
                            found.append(f"{rel}:{number}: layering: {stage}/ includes "
                                         f"{m.group(1)}/ (allowed: {', '.join(sorted(ALLOWED[stage]))})")
                        code = line.split("//", 1)[0]
                        if rel not in CLOCK_HOME and not name.endswith("_test.cc") \
                                and CLOCK.search(code):
                            found.append(f"{rel}:{number}: clock: a real-clock call; ask a "
                                         "Clock (core/clock.h)")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as root:
        for stage in ALLOWED:
            os.makedirs(os.path.join(root, stage))
        with open(os.path.join(root, "detect", "bad.cc"), "w") as f:
            f.write('#include "ingest/source.h"\n#include "core/event.h"\n')
        with open(os.path.join(root, "sinks", "late.cc"), "w") as f:
            f.write("auto t = absl::Now();  // the wall clock\n")
        with open(os.path.join(root, "core", "fine.cc"), "w") as f:
            f.write('#include "core/clock.h"\n// absl::Now() in a comment is fine\n'
                    "auto n = clock.time(0);\n")
        found = violations(root)
        expected = ["detect/bad.cc:1: layering", "sinks/late.cc:1: clock"]
        ok = len(found) == 2 and all(any(f.startswith(e) for f in found) for e in expected)
        print("\n".join(found))
        print("self-test:", "ok, both planted violations caught" if ok else "FAILED")
        return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    found = violations(root)
    for v in found:
        print(v)
    print(f"check_tree: {len(found)} violation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
