#!/usr/bin/env python3
"""Several instances of one consumer group raise what one instance raises (issue 13).

bench/loadgen fills a topic of 12 partitions keyed by host (200 hosts, incidents of every
detector, the fleet detector's among them, and a ground truth). Against the real broker:

  one      one `faultline run` of one worker reads it to the end;
  workers  one `faultline run` of three workers (kafka.workers: three members of the group in one
           process) reads it to the end;
  three    three instances (one worker each) of another group read it together, each to the
           end: the fleet detector's failures meet in the group's pool topic (ingest.pool_topic),
           so a fleet incident is raised once, whichever instances hold its hosts (members stop
           one by one, and the last holds every partition when it reads to the end);
  rebalance  a fourth group while the stream is written live (instances of two workers each):
           an instance starts, a second joins,
           the first is stopped (SIGTERM), a third joins and the second is stopped; every join
           and leave is a rebalance, and each partition a member is given is restored.

Each must raise every incident of the truth and nothing else (recall = precision = 1.0); an
incident notified twice (its partition moved before its commit) carries one fingerprint, and
three workers and three instances raise the same incidents as one. (A fleet incident's fingerprint is its pool and
start, the earliest failure of the hosts it first counted: which hosts those are depends on the
order the instances' failures met in, so it may differ between two deployments, never within
one.) Prints the counts.

  scale_out_test.py LOADGEN FAULTLINE BOOTSTRAP_FILE WORK_DIR [--cooperative]"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
import score  # noqa: E402
from kafka_check import check, create_topic, finish, lines  # noqa: E402
import kafka_check  # noqa: E402

EVENTS, HOSTS, EVERY, PARTITIONS, POOL_PARTITIONS = 1_000_000, 200, 5_000, 12, 6
LIVE_EVENTS, LIVE_RATE = 150_000, 10_000
# --cooperative: the members offer the cooperative-sticky assignor (incremental rebalances)
# instead of librdkafka's default eager one.
COOPERATIVE = "--cooperative" in sys.argv[5:]


class Group:
    """The instances of one consumer group, each with its alerts file."""

    def __init__(self, name, faultline, brokers, topic, work, loadgen):
        self.name, self.faultline, self.work = name, faultline, work
        self.topic = topic
        self.group = f"{topic}-{name}"
        self.pool_topic = f"{self.group}-pools"
        create_topic(loadgen, brokers, self.pool_topic, POOL_PARTITIONS)
        self.brokers = brokers
        self.members = []

    def start(self, *extra, workers=None):
        i = len(self.members)
        alerts = os.path.join(self.work, f"{self.name}{i}.alerts.jsonl")
        config = os.path.join(self.work, f"{self.name}{i}.yaml")
        if os.path.exists(alerts):
            os.remove(alerts)
        with open(config, "w") as f:
            # A member that leaves says so at once (SIGTERM); one that dies is replaced after the
            # session timeout, 6 s.
            f.write(f"kafka:\n  brokers: {self.brokers}\n  topics: [{self.topic}]\n"
                    f"  group_id: {self.group}\n  commit_interval: 200ms\n"
                    + (f"  workers: {workers}\n" if workers else "") +
                    f"  properties:\n    session.timeout.ms: '6000'\n"
                    + ("    partition.assignment.strategy: cooperative-sticky\n"
                       if COOPERATIVE else "") +
                    f"ingest:\n  pool_topic: {self.pool_topic}\n"
                    f"sinks:\n  - type: file\n    path: {alerts}\n")
        err = open(os.path.join(self.work, f"{self.name}{i}.stderr"), "w")
        process = subprocess.Popen([self.faultline, "run", "--config", config,
                                    "--progress-every", "0", *extra],
                                   stdout=subprocess.DEVNULL, stderr=err)
        self.members.append((process, alerts, err.name))
        return process

    def wait(self, timeout=300):
        for i, (process, _, err) in enumerate(self.members):
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                check(False, f"{self.name}: member {i} did not end in {timeout} s")
            with open(err) as f:
                log = f.read()
            check(process.returncode == 0,
                  f"{self.name}: member {i} exited {process.returncode}: {log[-1500:]}")

    def notified(self):
        return [line for _, alerts, _ in self.members for line in lines(alerts)]

    def logs(self):
        text = ""
        for _, _, err in self.members:
            with open(err) as f:
                text += f.read()
        return text

    def restores(self):
        n = 0
        for _, _, err in self.members:
            with open(err) as f:
                n += f.read().count(" restored in ")
        return n


def judge(group, truth, seconds):
    notified = group.notified()
    s = score.score(open(truth), notified)
    check(s["recall"] == 1.0, f"{group.name}: missed {s['missed'][:5]}")
    check(s["precision"] == 1.0, f"{group.name}: unexpected {s['unexpected'][:5]}")
    found = kafka_check.incidents(notified)
    split = [k for k, v in found.items() if len(v) > 1]
    check(not split, f"{group.name}: incidents under two fingerprints: {split[:5]}")
    check(COOPERATIVE == ("(cooperative rebalance)" in group.logs()),
          f"{group.name}: the assignment protocol is not the one asked for")
    print(f"{group.name}: {len(group.members)} member(s) in {seconds:.1f} s, {len(notified)} "
          f"notifications, {len(found)} incidents (recall {s['recall']:.4f}, precision "
          f"{s['precision']:.4f}), {s['duplicates']} notified again with the same fingerprint, "
          f"{group.restores()} partition restores", file=sys.stderr)
    return found


def main():
    loadgen, faultline, bootstrap_file, work = sys.argv[1:5]
    brokers, topic, truth = kafka_check.fleet_topic("scale", loadgen, bootstrap_file, work,
                                                    PARTITIONS, EVENTS, HOSTS, EVERY)

    one = Group("one", faultline, brokers, topic, work, loadgen)
    started = time.monotonic()
    one.start("--exit-at-end", workers=1)
    one.wait()
    by_one = judge(one, truth, time.monotonic() - started)

    # One instance of three workers (kafka.workers), each a member of the group (a worker that
    # joins after the first has read part of the topic restores what it is given).
    workers = Group("workers", faultline, brokers, topic, work, loadgen)
    started = time.monotonic()
    workers.start("--exit-at-end", workers=3)
    workers.wait()
    by_workers = judge(workers, truth, time.monotonic() - started)
    check(set(by_one) == set(by_workers), "three workers raised other incidents than one: "
          f"{sorted(set(by_one) ^ set(by_workers))[:5]}")

    three = Group("three", faultline, brokers, topic, work, loadgen)
    started = time.monotonic()
    for _ in range(3):
        three.start("--exit-at-end", workers=1)
    three.wait()
    by_three = judge(three, truth, time.monotonic() - started)
    check(set(by_one) == set(by_three), "three instances raised other incidents than one: "
          f"{sorted(set(by_one) ^ set(by_three))[:5]}")
    fleet = [k for k in by_three if k[0] == "fleet_app_pool_failures"]
    print(f"one instance, three workers, three instances: the same {len(by_one)} incidents, "
          f"{len(fleet)} of them fleet incidents, each raised once", file=sys.stderr)

    # Members join and leave while the stream is written.
    live_topic = f"{topic}-live"
    live_truth = os.path.join(work, "live-truth.jsonl")
    writer = subprocess.Popen([loadgen, "--events", str(LIVE_EVENTS), "--hosts", str(HOSTS),
                               "--incident-every", str(EVERY), "--rate", str(LIVE_RATE),
                               "--brokers", brokers, "--topic", live_topic, "--partitions",
                               str(PARTITIONS), "--truth", live_truth],
                              stdout=subprocess.PIPE)
    live = Group("rebalance", faultline, brokers, live_topic, work, loadgen)
    started = time.monotonic()
    duration = LIVE_EVENTS / LIVE_RATE
    first = live.start(workers=2)
    time.sleep(duration * 0.25)
    second = live.start(workers=2)
    time.sleep(duration * 0.25)
    first.send_signal(signal.SIGTERM)
    writer.wait(timeout=300)
    check(writer.returncode == 0, f"loadgen exited {writer.returncode}")
    live.start("--exit-at-end", workers=2)
    time.sleep(8)  # the third has joined: the second leaves it everything
    second.send_signal(signal.SIGTERM)
    live.wait()
    judge(live, live_truth, time.monotonic() - started)

    finish()


if __name__ == "__main__":
    main()
