#!/usr/bin/env python3
"""Replays synthetic events through `faultline replay -` and reports throughput and peak RSS,
against a reference run in the same script: the generator piped into `cat > /dev/null` (what it
costs just to produce and move the bytes).

  python3 bench/replay_at_scale.py [EVENTS] [KEYS]      (defaults: 10,000,000 and 100,000)

Needs the release build: cmake --preset release && cmake --build --preset release."""
import json
import os
import resource
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.join(root, "build-release")
events = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
keys = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
# One failure in 10 events, 0.3 ms of event time per event: 1,000,000 failures over 50 minutes,
# so every key fails about every 5 minutes and all 100,000 keys hold state at once.
gen = [os.path.join(build, "bench", "synth_events"), str(events), str(keys), "10", "300"]


def run(consumer):
    start = time.monotonic()
    g = subprocess.Popen(gen, stdout=subprocess.PIPE)
    c = subprocess.run(consumer, stdin=g.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    g.stdout.close()
    g.wait()
    return time.monotonic() - start, c


ref_seconds, _ = run(["cat"])
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
seconds, proc = run([os.path.join(build, "faultline"), "replay", "-", "--quiet"])
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
summary = json.loads(proc.stderr.decode().strip().splitlines()[-1])
print(json.dumps({
    "events": events, "keys": keys,
    "generator_only_seconds": round(ref_seconds, 1),
    "replay_seconds": round(seconds, 1),
    "replay_events_per_second": round(events / seconds),
    "faultline_peak_rss_mib": round(peak_kib / 1024, 1),
    "summary": summary,
}, indent=1))
