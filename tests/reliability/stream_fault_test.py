#!/usr/bin/env python3
"""A fault in the middle of a fleet's stream loses no incident (issue 14's scenarios 1 and 2).

bench/loadgen fills a topic of 12 partitions keyed by host (a fleet of 200 hosts, incidents of
every detector, redelivered records, a ground truth). `faultline run` consumes it, and once it
has raised a third of the incidents the fault strikes:

  --fault sigkill  faultline is killed (SIGKILL: no drain, no commit); a second `faultline run`
                   of the same group reads every partition (of the input and of the pool topic,
                   where the fleet detector counts) again from before its committed position
                   (a restore) and runs to the end;
  --fault sigterm  faultline is stopped as an orchestrator stops it (SIGTERM at peak load): it
                   must drain, deliver, commit and exit 0 within delivery.shutdown_timeout; a
                   second run restores and runs to the end;
  --fault broker   the broker (one of this test's own, not the suite's) is stopped for 30 s and
                   started again; the same `faultline run` rides it out and runs to the end;
  --fault hostile  no fault in the run: the stream itself is hostile, two hostile messages
                   (bench/hostile.h, mutations of the real record before them) after every
                   record, a million in all; each must be rejected and counted, none may crash
                   the run or hide an incident;
  --fault clock    no fault in the run: the fleet has clock trouble beyond loadgen's usual wrong
                   clocks, WEF batches and backlogs (loadgen --clock-trouble over 30 hours):
                   forwarders replaying a whole day, clocks a year ahead.

Every incident of the truth must be notified and nothing else (recall = precision = 1.0); an
incident notified twice carries the same fingerprint both times, so a receiver deduplicates it.
Prints the figures and writes them to WORK_DIR/result.json (RELIABILITY.md's table).

  stream_fault_test.py LOADGEN FAULTLINE BOOTSTRAP_FILE WORK_DIR
                       --fault sigkill|sigterm|broker|hostile|clock
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.dirname(HERE))
import score  # noqa: E402
from kafka_check import check, create_topic, failures, finish, lines  # noqa: E402
import kafka_check  # noqa: E402

HOSTS, EVERY, PARTITIONS, POOL_PARTITIONS = 200, 5_000, 12, 4
EVENTS = {"sigkill": 1_000_000, "sigterm": 1_000_000, "broker": 500_000, "hostile": 500_000,
          "clock": 1_000_000}
HOSTILE_PER_RECORD = 2
LOADGEN_EXTRA = {"hostile": ["--hostile", str(HOSTILE_PER_RECORD)],
                 "clock": ["--clock-trouble", "--hours", "30"]}
RSS_LIMIT_MIB = 1024
OUTAGE_SECONDS = 30
SHUTDOWN_TIMEOUT = 10  # delivery.shutdown_timeout of the runs, seconds
KAFKA_SH = os.path.join(ROOT, "deploy", "local", "kafka.sh")


class Member:
    """One `faultline run` of the group, its stderr kept and its peak RSS watched."""

    def __init__(self, faultline, config, work, name, *extra):
        self.err = os.path.join(work, f"{name}.stderr")
        with open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [faultline, "run", "--config", config, "--progress-every", "0", *extra],
                stdout=subprocess.DEVNULL, stderr=err)
        self.peak_kib = 0

    def poll(self):
        """None while it runs; samples its high-water RSS meanwhile."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
        except OSError:
            pass
        return self.proc.poll()

    def wait(self, seconds, what):
        deadline = time.monotonic() + seconds
        while self.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                check(False, f"{what} did not end within {seconds} s")
                break
            time.sleep(0.05)
        return self.proc.returncode

    def log(self):
        with open(self.err) as f:
            return f.read()

    def summary(self):
        for line in reversed(self.log().strip().splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        return {}


def kafka(*args):
    """deploy/local/kafka.sh ARGS (start, stop) on this test's own broker."""
    subprocess.run([KAFKA_SH, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   text=True, check=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("loadgen")
    parser.add_argument("faultline")
    parser.add_argument("bootstrap_file")
    parser.add_argument("work")
    parser.add_argument("--fault", choices=sorted(EVENTS), required=True)
    args = parser.parse_args()
    fault, work = args.fault, args.work
    os.makedirs(work, exist_ok=True)
    own_broker = os.path.join(work, "kafka")
    bootstrap_file = args.bootstrap_file
    if fault == "broker":  # a broker of its own: the suite's serves other tests meanwhile
        kafka("start", own_broker)
        bootstrap_file = os.path.join(own_broker, "bootstrap")
    try:
        run(args, fault, work, bootstrap_file, own_broker)
    finally:
        if fault == "broker":
            subprocess.run([KAFKA_SH, "stop", own_broker], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    finish()


def run(args, fault, work, bootstrap_file, own_broker):
    events = EVENTS[fault]
    brokers, topic, truth = kafka_check.fleet_topic(f"fault-{fault}", args.loadgen, bootstrap_file,
                                                    work, PARTITIONS, events, HOSTS, EVERY,
                                                    *LOADGEN_EXTRA.get(fault, []))
    with open(truth) as f:
        incidents = sum(1 for line in f if line.strip())
    # The fleet detector's own topic, keyed by pool (ingest.pool_topic).
    pool_topic = f"{topic}-pools"
    create_topic(args.loadgen, brokers, pool_topic, POOL_PARTITIONS)
    config = os.path.join(work, "run.yaml")
    alerts = os.path.join(work, "alerts.jsonl")
    if os.path.exists(alerts):
        os.remove(alerts)
    with open(config, "w") as f:
        # Commits often, so that a kill finds positions committed; a killed member's partitions
        # go to the next one after the session timeout, 6 s, not 45. One sink for both runs:
        # what a receiver would see.
        f.write(f"kafka:\n  brokers: {brokers}\n  topics: [{topic}]\n  group_id: {topic}\n"
                f"  commit_interval: 200ms\n  properties:\n    session.timeout.ms: '6000'\n"
                f"ingest:\n  pool_topic: {pool_topic}\n"
                f"delivery:\n  shutdown_timeout: {SHUTDOWN_TIMEOUT}s\n"
                f"sinks:\n  - type: file\n    path: {alerts}\n")

    if fault in LOADGEN_EXTRA:  # the stream is the fault: one run to its end
        members = [Member(args.faultline, config, work, "run1", "--exit-at-end")]
        code = members[0].wait(300, "the run")
        check(code == 0, f"the run exited {code}: {members[0].log()[-2000:]}")
        summary = members[0].summary()
        hostile = events * HOSTILE_PER_RECORD if fault == "hostile" else 0
        figures = {"scenario": fault, "events": events, "hostile": hostile,
                   "incidents": incidents, "events_read": summary.get("events", 0),
                   "events_expected": events + hostile}
        for counter in ("rejected", "rejected_by_reason", "clock_ahead", "too_late", "too_old",
                        "duplicates", "seconds"):
            figures[counter] = summary.get(counter)
        if fault == "hostile":
            # Messages read twice (a partition that moved between the workers as they joined,
            # before its first commit) are rejected twice: at most that many more.
            again = max(0, summary.get("events", 0) - events - hostile)
            check(hostile <= summary.get("rejected", 0) <= hostile + again,
                  f"{summary.get('rejected')} rejected for {hostile} hostile messages "
                  f"({again} read again)")
        else:
            check(summary.get("clock_ahead", 0) > 0, "no event counted clock_ahead")
            with open(truth) as f:
                truths = [json.loads(line) for line in f if line.strip()]
            figures["incidents_on_clocks_a_year_ahead"] = sum(
                t.get("clock_offset_s", 0) > 300 * 86400 for t in truths)
            figures["incidents_on_replaying_forwarders"] = sum(
                t.get("forwarder") == "backlog" for t in truths)
        score_and_write(work, figures, truth, incidents, alerts, members,
                        lost_if_known=events + hostile)
        return
    # The first member, faulted once a third of the incidents were notified.
    first = Member(args.faultline, config, work, "run1",
                   *(["--exit-at-end"] if fault == "broker" else []))
    deadline = time.monotonic() + 180
    while len(lines(alerts)) < incidents // 3 and time.monotonic() < deadline:
        if first.poll() is not None:
            check(False, f"the first run ended before the fault: {first.log()[-2000:]}")
            return
        time.sleep(0.05)
    at_fault = len(lines(alerts))
    check(incidents // 3 <= at_fault < incidents, f"the fault came after {at_fault} alerts")
    figures = {"scenario": fault, "events": events, "incidents": incidents,
               "alerts_at_fault": at_fault}
    members = [first]
    if fault == "broker":
        kafka("stop", own_broker)
        stopped = time.monotonic()
        while time.monotonic() - stopped < OUTAGE_SECONDS:
            check(first.poll() is None, "faultline exited while the broker was down")
            time.sleep(0.2)
        kafka("start", own_broker)
        back, before = time.monotonic(), len(lines(alerts))
        while len(lines(alerts)) == before and first.poll() is None and \
                time.monotonic() - back < 120:
            time.sleep(0.05)
        figures["recovery_seconds"] = round(time.monotonic() - back, 2)
        check(len(lines(alerts)) > before, "no alert after the broker came back")
        code = first.wait(300, "the run")
        check(code == 0, f"the run exited {code}: {first.log()[-2000:]}")
        figures["events_read"] = first.summary().get("events", 0)
    else:
        signalled = time.monotonic()
        first.proc.send_signal(signal.SIGKILL if fault == "sigkill" else signal.SIGTERM)
        code = first.wait(SHUTDOWN_TIMEOUT + 20, "the signalled run")
        if fault == "sigterm":
            figures["shutdown_seconds"] = round(time.monotonic() - signalled, 2)
            check(code == 0, f"SIGTERM: the run exited {code}: {first.log()[-2000:]}")
            check("stopped:" in first.log(), "SIGTERM: no orderly stop")
        # The second: restores and runs to the end.
        started = time.monotonic()
        second = Member(args.faultline, config, work, "run2", "--exit-at-end")
        members.append(second)
        code = second.wait(300, "the second run")
        check(code == 0, f"the second run exited {code}: {second.log()[-2000:]}")
        figures["second_run_seconds"] = round(time.monotonic() - started, 1)
        restored = re.findall(r"restored in ([0-9.]+)(ms|s)", second.log())
        seconds = [float(v) / (1000 if unit == "ms" else 1) for v, unit in restored]
        # Partitions the first member had committed are restored; one it had not reached yet
        # is read from its start anyway.
        check(len(seconds) >= 1, "no partition was restored")
        figures["restored_partitions"] = len(seconds)
        figures["recovery_seconds"] = round(max(seconds or [0]), 3)  # the slowest restore
        summary = second.summary()
        figures["replayed"] = summary.get("replayed", 0)
        figures["events_read"] = (first.summary().get("events", 0) if fault == "sigterm" else 0) \
            + summary.get("events", 0)

    score_and_write(work, figures, truth, incidents, alerts, members,
                    lost_if_known=None if fault == "sigkill" else events)


def score_and_write(work, figures, truth, incidents, alerts, members, lost_if_known):
    """Every incident once (recall, precision), one fingerprint each, no event left unread
    (`lost_if_known`: the messages the topic holds, None when the reads are unknown), peak RSS
    bounded; the figures to WORK/result.json."""
    notified = lines(alerts)
    with open(truth) as f:
        s = score.score(f, notified)
    check(s["recall"] == 1.0, f"missed {s['missed']}")
    check(s["precision"] == 1.0, f"unexpected {s['unexpected']}")
    # An incident notified twice (its message processed, not yet committed at the fault) has one
    # fingerprint: the idempotency key a receiver deduplicates by. Fleet incidents too: their
    # pool's failures are read again from the pool topic, in the order they were first counted.
    split = [k for k, v in kafka_check.incidents(notified).items() if len(v) > 1]
    check(not split, f"incidents notified under two fingerprints: {split[:5]}")
    figures.update({"alerted": round(s["recall"] * incidents), "recall": s["recall"],
                    "precision": s["precision"], "duplicated": s["duplicates"],
                    "new_fingerprints": len(split),
                    "peak_rss_mib": round(max(m.peak_kib for m in members) / 1024)})
    if lost_if_known is not None:  # a killed run prints no summary: its reads are unknown
        figures["events_lost"] = max(0, lost_if_known - figures["events_read"])
        check(figures["events_lost"] == 0, f"{figures['events_lost']} events never read")
    check(figures["peak_rss_mib"] < RSS_LIMIT_MIB, f"peak RSS {figures['peak_rss_mib']} MiB")
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(figures, f)
    print(json.dumps(figures), file=sys.stderr)


if __name__ == "__main__":
    main()
