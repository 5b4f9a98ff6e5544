#!/usr/bin/env python3
"""A full disk and a read-only path under the spool and the file sink (issue 14's scenario 6).

A small tmpfs of this test's own stands for the disk (so it needs root: it exits 77, skipped,
otherwise). bench/loadgen fills a topic with a fleet (200 hosts, an incident every EVERY events,
a ground truth). For each case, `faultline run` starts with the disk already full:

  spool  delivery.spool_dir on the full disk, the file sink elsewhere: no alert can be made
         durable, so none may be acknowledged: nothing delivered, commits held
         (faultline_spool_write_errors_total counts the failed appends), the service up;
  file   the file sink's file on the full disk, no spool: deliveries fail and are retried
         (faultline_sink_retries_total), the service up.

Then the run is killed (SIGKILL: nothing drained), the disk freed, and a second run of the same
group reads from the committed position to the end: every incident of the truth must be in the
sink (recall = precision = 1.0: had the first run committed past an alert it had not written,
the second would never see it), every line of it whole JSON (no torn line from the failed
writes). Last, a read-only path: `run` with the spool or the file there stops at start, naming
the path: exit 1 for the spool (an I/O failure at run time), exit 2 for the file sink (its path
is checked as configuration). Prints the figures, writes them to WORK_DIR/result.json (RELIABILITY.md).

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


def full_disk_case(args, work, disk, name, brokers, topic, truth):
    """A run held on the full disk, killed, then a run on the freed disk to the end."""
    group = f"{topic}-{name}"
    sink = os.path.join(disk if name == "file" else work, f"alerts-{name}.jsonl")
    if os.path.exists(sink):  # an earlier run's
        os.remove(sink)
    port = free_port()
    config = os.path.join(work, f"{name}.yaml")
    with open(config, "w") as f:
        f.write(f"kafka:\n  brokers: {brokers}\n  topics: [{topic}]\n  group_id: {group}\n"
                f"  commit_interval: 200ms\n  properties:\n    session.timeout.ms: '6000'\n"
                f"metrics:\n  listen: 127.0.0.1:{port}\n"
                + (f"delivery:\n  spool_dir: {disk}/spool\n" if name == "spool" else "")
                + f"sinks:\n  - type: file\n    name: alerts\n    path: {sink}\n")
    fill_disk(disk)
    first = Member(args.faultline, config, work, f"{name}-run1")
    try:
        return held_then_freed(args, work, disk, name, config, sink, port, truth, first)
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
            first.proc.wait()


def held_then_freed(args, work, disk, name, config, sink, port, truth, first):
    """The first run held FULL_SECONDS on the full disk and killed, then a second on the freed
    disk to the end; the figures."""
    time.sleep(FULL_SECONDS)
    alive = first.poll() is None
    check(alive, f"{name}: faultline exited on the full disk: {first.log()[-2000:]}")
    errors = metric(port, "faultline_spool_write_errors_total" if name == "spool"
                    else "faultline_sink_retries_total")
    delivered = metric(port, "faultline_sink_delivered_total")
    check(errors > 0, f"{name}: no write error counted ({errors})")
    if name == "spool":
        check(delivered == 0 and not lines(sink), f"{name}: delivered {delivered} unjournaled")
    first.proc.send_signal(signal.SIGKILL)
    first.wait(30, f"{name}: the killed run")
    os.remove(os.path.join(disk, "filler"))
    second = Member(args.faultline, config, work, f"{name}-run2", "--exit-at-end")
    code = second.wait(300, f"{name}: the run after the disk was freed")
    check(code == 0, f"{name}: the second run exited {code}: {second.log()[-2000:]}")
    with open(truth) as f:
        s = score.score(f, lines(sink))
    check(s["recall"] == 1.0, f"{name}: missed {s['missed']}")
    check(s["precision"] == 1.0, f"{name}: unexpected {s['unexpected']}")
    whole = whole_lines(sink)
    check(whole, f"{name}: a torn line in {sink}")
    return {"write_errors_while_full": errors, "delivered_while_full": delivered,
            "alerted": round(s["recall"] * incidents(truth)),
            "duplicated": s["duplicates"], "whole_lines": whole,
            "peak_rss_mib": round(max(first.peak_kib, second.peak_kib) / 1024)}


def read_only_case(args, work, disk, name, brokers, topic):
    """`run` with the spool or the file on a read-only path: exit 1 or 2, the path named."""
    config = os.path.join(work, f"ro-{name}.yaml")
    with open(config, "w") as f:
        f.write(f"kafka:\n  brokers: {brokers}\n  topics: [{topic}]\n  group_id: {topic}-ro\n"
                + (f"delivery:\n  spool_dir: {disk}/spool-ro\n" if name == "spool" else "")
                + "sinks:\n  - type: file\n    path: "
                + (f"{disk}/ro.jsonl\n" if name == "file" else f"{work}/ro.jsonl\n"))
    proc = subprocess.run([args.faultline, "run", "--config", config, "--exit-at-end"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=60)
    expected = 1 if name == "spool" else 2
    check(proc.returncode == expected, f"read-only {name}: exit {proc.returncode}: {proc.stderr}")
    check(disk in proc.stderr and "Read-only file system" in proc.stderr,
          f"read-only {name}: the path and the reason not named: {proc.stderr}")
    return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""


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
        for name in ("spool", "file"):
            figures[name] = full_disk_case(args, work, disk, name, brokers, topic, truth)
        subprocess.run(["mount", "-o", "remount,ro", disk], check=True)
        for name in ("spool", "file"):
            figures[f"read_only_{name}"] = read_only_case(args, work, disk, name, brokers, topic)
    finally:
        subprocess.run(["umount", "-l", disk], stderr=subprocess.DEVNULL)
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(figures, f)
    print(json.dumps(figures), file=sys.stderr)
    finish()


if __name__ == "__main__":
    main()
