#!/usr/bin/env python3
"""A full disk and a read-only path under the spool and the file sink (issue 14's scenario 6).

A small tmpfs of this test's own stands for the disk (so it needs root: it exits 77, skipped,
otherwise). bench/loadgen fills a topic with a fleet (200 hosts, an incident every EVERY events,
a ground truth). For each case, `faultline run` starts with the disk already full, or mounted
read-only:

  spool  delivery.spool_dir on that disk, the file sink elsewhere: no alert can be made
         durable (on a read-only disk the spool cannot even be created), so none may be
         acknowledged: nothing delivered, commits held (faultline_spool_write_errors_total
         counts the failed opens and appends), the service up;
  file   the file sink's file on that disk, no spool: deliveries fail and are retried
         (faultline_sink_retries_total), the service up.

Then the run is killed (SIGKILL: nothing drained), the disk freed (or mounted read-write), and a
second run of the same group reads from the committed position to the end: every incident of the
truth must be in the sink (recall = precision = 1.0: had the first run committed past an alert it
had not written, the second would never see it), every line of it whole JSON (no torn line from
the failed writes). Prints the figures, writes them to WORK_DIR/result.json (RELIABILITY.md).

  disk_fault_test.py LOADGEN FAULTLINE BOOTSTRAP_FILE WORK_DIR
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import score  # noqa: E402
from kafka_check import free_port, check, finish, lines  # noqa: E402
import kafka_check  # noqa: E402
from stream_fault_test import Member  # noqa: E402

HOSTS, PARTITIONS, EVENTS, EVERY = 200, 12, 100_000, 5_000
FULL_SECONDS = 10  # how long each run is held on the full disk


def metric(port, name):
    """The sum of a metric's samples on faultline's endpoint (-1 when it cannot be read)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return -1
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def fill_disk(disk):
    """Writes a filler file until the disk is full."""
    with open(os.path.join(disk, "filler"), "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def incidents(truth):
    with open(truth) as f:
        return sum(1 for line in f if line.strip())


def whole_lines(path):
    """Whether every line of `path` is a whole JSON document."""
    with open(path) as f:
        for line in f:
            try:
                json.loads(line)
            except ValueError:
                return False
    return True


def break_disk(disk, fault):
    """The fault before the first run: the disk full, or mounted read-only."""
    if fault == "full":
        fill_disk(disk)
    else:
        subprocess.run(["mount", "-o", "remount,ro", disk], check=True)


def mend_disk(disk, fault):
    """The disk back: freed, or mounted read-write."""
    if fault == "full":
        os.remove(os.path.join(disk, "filler"))
    else:
        subprocess.run(["mount", "-o", "remount,rw", disk], check=True)


def disk_case(args, work, disk, name, fault, brokers, topic, truth):
    """A run held on the broken disk, killed, then a run on the mended disk to the end."""
    case = f"{name}-{fault}"
    group = f"{topic}-{case}"
    sink = os.path.join(disk if name == "file" else work, f"alerts-{case}.jsonl")
    if os.path.exists(sink):  # an earlier run's
        os.remove(sink)
    port = free_port()
    config = os.path.join(work, f"{case}.yaml")
    with open(config, "w") as f:
        f.write(f"kafka:\n  brokers: {brokers}\n  topics: [{topic}]\n  group_id: {group}\n"
                f"  commit_interval: 200ms\n  properties:\n    session.timeout.ms: '6000'\n"
                f"metrics:\n  listen: 127.0.0.1:{port}\n"
                + (f"delivery:\n  spool_dir: {disk}/spool-{fault}\n" if name == "spool" else "")
                + f"sinks:\n  - type: file\n    name: alerts\n    path: {sink}\n")
    break_disk(disk, fault)
    first = Member(args.faultline, config, work, f"{case}-run1")
    try:
        return held_then_mended(args, work, disk, case, fault, config, sink, port, truth, first)
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
            first.proc.wait()


def held_then_mended(args, work, disk, case, fault, config, sink, port, truth, first):
    """The first run held FULL_SECONDS on the broken disk and killed, then a second on the
    mended disk to the end; the figures."""
    time.sleep(FULL_SECONDS)
    alive = first.poll() is None
    check(alive, f"{case}: faultline exited on the broken disk: {first.log()[-2000:]}")
    spool = case.startswith("spool")
    errors = metric(port, "faultline_spool_write_errors_total" if spool
                    else "faultline_sink_retries_total")
    delivered = metric(port, "faultline_sink_delivered_total")
    check(errors > 0, f"{case}: no write error counted ({errors})")
    if spool or fault == "read-only":
        check(delivered == 0 and not lines(sink),
              f"{case}: delivered {delivered} while nothing could be written")
    reason = "No space left on device" if fault == "full" else "Read-only file system"
    said = [line for line in first.log().splitlines() if reason in line and disk in line]
    check(said, f"{case}: the path and the reason not logged: {first.log()[-2000:]}")
    first.proc.send_signal(signal.SIGKILL)
    first.wait(30, f"{case}: the killed run")
    mend_disk(disk, fault)
    mended = time.monotonic()
    second = Member(args.faultline, config, work, f"{case}-run2", "--exit-at-end")
    code = second.wait(300, f"{case}: the run after the disk was mended")
    recovery = time.monotonic() - mended  # to every alert written and the topic's end read
    check(code == 0, f"{case}: the second run exited {code}: {second.log()[-2000:]}")
    with open(truth) as f:
        s = score.score(f, lines(sink))
    check(s["recall"] == 1.0, f"{case}: missed {s['missed']}")
    check(s["precision"] == 1.0, f"{case}: unexpected {s['unexpected']}")
    whole = whole_lines(sink)
    check(whole, f"{case}: a torn line in {sink}")
    return {"write_errors_while_broken": errors, "delivered_while_broken": delivered,
            "logged": said[0][:300] if said else "",
            "alerted": round(s["recall"] * incidents(truth)),
            "duplicated": s["duplicates"], "whole_lines": whole,
            "recovery_seconds": round(recovery, 1),
            "peak_rss_mib": round(max(first.peak_kib, second.peak_kib) / 1024)}


def main():
    loadgen, faultline, bootstrap_file, work = sys.argv[1:5]
    args = type("Args", (), {"loadgen": loadgen, "faultline": faultline})
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "disk")
    os.makedirs(disk, exist_ok=True)
    subprocess.run(["umount", disk], stderr=subprocess.DEVNULL)
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", disk],
            stderr=subprocess.DEVNULL).returncode != 0:
        print("SKIPPED: needs root to mount a small tmpfs (the full disk)", file=sys.stderr)
        sys.exit(77)
    figures = {"scenario": "disk", "events": EVENTS}
    try:
        brokers, topic, truth = kafka_check.fleet_topic("disk", loadgen, bootstrap_file, work,
                                                        PARTITIONS, EVENTS, HOSTS, EVERY)
        figures["incidents"] = incidents(truth)
        for fault in ("full", "read-only"):
            for name in ("spool", "file"):
                figures[f"{name}-{fault}"] = disk_case(args, work, disk, name, fault, brokers,
                                                       topic, truth)
    finally:
        subprocess.run(["umount", "-l", disk], stderr=subprocess.DEVNULL)
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(figures, f)
    print(json.dumps(figures), file=sys.stderr)
    finish()


if __name__ == "__main__":
    main()
