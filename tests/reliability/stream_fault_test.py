#!/usr/bin/env python3
"""A crash in the middle of a fleet's stream loses no incident (issue 13's kill -9 case).

bench/loadgen fills a topic of 12 partitions keyed by host (1 M events, 200 hosts, incidents of
every detector, redelivered records, a ground truth). `faultline run` consumes it and is killed
with SIGKILL once it has raised a third of the incidents; a second `faultline run` of the same
group then reads every partition (of the input and of the pool topic, where the fleet detector
counts) again from before its committed position (the detectors' horizon, the lateness and
kafka.restore_batching: a restore) and runs to the end. Together they must raise every incident
of the truth and nothing else (recall = precision = 1.0); an incident notified by both carries
the same fingerprint both times, so a receiver deduplicates it. Prints the counts and the restore time.

  restart_test.py LOADGEN FAULTLINE BOOTSTRAP_FILE WORK_DIR"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
import score  # noqa: E402
from kafka_check import check, create_topic, failures, finish, lines  # noqa: E402
import kafka_check  # noqa: E402

EVENTS, HOSTS, EVERY, PARTITIONS = 1_000_000, 200, 5_000, 12


def main():
    loadgen, faultline, bootstrap_file, work = sys.argv[1:5]
    brokers, topic, truth = kafka_check.fleet_topic("restart", loadgen, bootstrap_file, work,
                                                    PARTITIONS, EVENTS, HOSTS, EVERY)
    with open(truth) as f:
        incidents = sum(1 for line in f if line.strip())
    # The fleet detector's own topic, keyed by pool (ingest.pool_topic).
    pool_topic = f"{topic}-pools"
    create_topic(loadgen, brokers, pool_topic, 4)

    config = os.path.join(work, "run.yaml")
    alerts = [os.path.join(work, f"run{i}.alerts.jsonl") for i in (1, 2)]
    for path in alerts:
        if os.path.exists(path):
            os.remove(path)

    def start(i, *extra):
        with open(config, "w") as f:
            # Commits often, so that the kill finds positions committed; the killed member's
            # partitions are given to the next one after the session timeout, 6 s, not 45.
            f.write(f"kafka:\n  brokers: {brokers}\n  topics: [{topic}]\n  group_id: {topic}\n"
                    f"  commit_interval: 200ms\n  properties:\n    session.timeout.ms: '6000'\n"
                    f"ingest:\n  pool_topic: {pool_topic}\n"
                    f"sinks:\n  - type: file\n    path: {alerts[i]}\n")
        err = open(os.path.join(work, f"run{i + 1}.stderr"), "w")
        return subprocess.Popen([faultline, "run", "--config", config, "--progress-every", "0",
                                 *extra], stdout=subprocess.DEVNULL, stderr=err), err.name

    # The first member: killed once a third of the incidents were notified.
    first, _ = start(0)
    deadline = time.monotonic() + 180
    while len(lines(alerts[0])) < incidents // 3 and time.monotonic() < deadline:
        check(first.poll() is None, "the first run ended before it was killed")
        if failures:
            break
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    killed_after = len(lines(alerts[0]))
    check(incidents // 3 <= killed_after < incidents, f"killed after {killed_after} alerts")

    # The second: restores and runs to the end.
    started = time.monotonic()
    second, err = start(1, "--exit-at-end")
    try:
        second.wait(timeout=300)
    except subprocess.TimeoutExpired:
        second.kill()
        check(False, "the second run did not reach the end in 300 s")
    seconds = time.monotonic() - started
    with open(err) as f:
        log = f.read()
    check(second.returncode == 0, f"the second run exited {second.returncode}: {log[-2000:]}")
    summary = json.loads(log.strip().splitlines()[-1])
    restored = re.findall(r"restored in ([0-9.]+)(ms|s)", log)
    restore_seconds = [float(v) / (1000 if unit == "ms" else 1) for v, unit in restored]
    # Partitions the first member had committed are restored; one it had not reached yet is
    # read from its start anyway.
    check(len(restore_seconds) >= 1, "no partition was restored")

    notified = lines(alerts[0]) + lines(alerts[1])
    s = score.score(open(truth), notified)
    check(s["recall"] == 1.0, f"missed {s['missed']}")
    check(s["precision"] == 1.0, f"unexpected {s['unexpected']}")
    # Every incident notified twice (its message processed, not yet committed at the kill) has
    # one fingerprint: the idempotency key a receiver deduplicates by.
    split = [k for k, v in kafka_check.incidents(notified).items() if len(v) > 1]
    # Fleet incidents too: their pool's failures are read again from the pool topic, in the
    # order they were first counted.
    check(not split, f"incidents notified under two fingerprints: {split[:5]}")
    print(f"{incidents} incidents; killed after {killed_after} notifications; the restart "
          f"replayed {summary.get('replayed', 0):,} messages ({summary.get('replay_alerts', 0)} "
          f"alerts rebuilt, not sent), read {summary['events']:,} new ones and sent "
          f"{len(lines(alerts[1]))} notifications in {seconds:.1f} s; recall {s['recall']:.4f}, "
          f"precision {s['precision']:.4f}, {s['duplicates']} incidents notified again with the "
          f"same fingerprint, {len(split)} under a new one; {len(restore_seconds)} "
          f"of {PARTITIONS} + 4 partitions (input, pool topic) restored (the rest not committed yet: read from the "
          f"start), the slowest in {max(restore_seconds or [0]):.3f} s",
          file=sys.stderr)
    finish()


if __name__ == "__main__":
    main()
