#!/usr/bin/env python3
"""bench/loadgen's fleet and its ground truth, checked against faultline itself: a replay of the
file and a run from the real broker both raise every incident of the truth exactly once and
nothing else (recall = precision = 1.0, no duplicate), with at least 20 incidents per rule, the
four envelopes, Winlogbeat documents of real sizes and one pid per worker start. The benchmark
(bench/e2e.py) scores every system with the same truth, so this test is what makes its recall
and precision mean something.

  loadgen_truth_test.py LOADGEN FAULTLINE BOOTSTRAP_FILE WORK_DIR"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
import score  # noqa: E402
from kafka_check import check, finish  # noqa: E402
import kafka_check  # noqa: E402

RULES = ["fleet_app_pool_failures", "iis_app_pool_disabled", "iis_rapid_fail_imminent",
         "iis_worker_failure_burst", "service_crash_loop"]
EVENTS, HOSTS, EVERY = 250_000, 300, 1_000


def scored(name, truth, alerts_text, summary):
    with open(truth) as t:
        s = score.score(t, alerts_text.splitlines())
    print(f"{name}: recall {s['recall']:.4f} precision {s['precision']:.4f} duplicates "
          f"{s['duplicates']} expected {s['expected']}; summary {summary}", file=sys.stderr)
    check(s["recall"] == 1.0, f"{name}: missed {s['missed']}")
    check(s["precision"] == 1.0, f"{name}: unexpected {s['unexpected']}")
    check(s["duplicates"] == 0, f"{name}: {s['duplicates']} duplicate first notifications")
    for rule in RULES:
        n = s["by_rule"].get(rule, {}).get("expected", 0)
        check(n >= 20, f"{name}: only {n} incidents of {rule}")
    return s


def main():
    loadgen, faultline, bootstrap_file, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    base = [loadgen, "--events", str(EVENTS), "--hosts", str(HOSTS), "--incident-every",
            str(EVERY)]

    # From a file: faultline replay.
    events, truth = os.path.join(work, "fleet.jsonl"), os.path.join(work, "fleet.truth.jsonl")
    gen = json.loads(subprocess.run(base + ["--out", events, "--truth", truth],
                                    stdout=subprocess.PIPE, check=True).stdout)
    check(gen["messages"] == EVENTS, f"loadgen wrote {gen['messages']} events")
    check(gen["incidents_not_placed"] == 0, f"{gen['incidents_not_placed']} incidents not placed")
    check(set(gen["hosts_by_envelope"]) == {"wlb8", "wlb7", "nxlog", "fluentbit"},
          f"envelopes {gen['hosts_by_envelope']}")
    check(gen["duplicates"] > 0, "no record was redelivered")
    sizes, pids = [], {}
    with open(events) as f:
        for line in f:
            if line.startswith('{"@timestamp":"'):  # Winlogbeat
                sizes.append(len(line))
            m = re.search(r'"(?:computer_name|Hostname|Computer)":"([^"]+)"', line)
            p = re.search(r"The process id was '(\d+)'", line)
            if m and p and "'DefaultAppPool'" not in line:
                pids.setdefault(m.group(1), []).append((p.group(1), line))
    average = sum(sizes) / len(sizes)
    check(1000 <= average <= 3000, f"Winlogbeat documents average {average:.0f} B")
    for host, seen in pids.items():
        # A record delivered twice is the same worker; two records with one pid are not.
        by_pid = {}
        for pid, line in seen:
            by_pid.setdefault(pid, set()).add(line)
        reused = [pid for pid, lines in by_pid.items() if len(lines) > 1]
        check(not reused, f"{host}: worker pid(s) {reused[:3]} used by two failures")
    replay = subprocess.run([faultline, "replay", events, "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, check=True)
    scored("replay", truth, replay.stdout.decode(), replay.stderr.decode().strip().splitlines()[-1])

    # From the real broker: faultline run, whose clocks are judged against broker time.
    brokers = kafka_check.brokers(bootstrap_file)
    topic = f"loadgen-truth-{os.getpid()}-{int(time.time())}"
    truth = os.path.join(work, "topic.truth.jsonl")
    subprocess.run(base + ["--brokers", brokers, "--topic", topic, "--partitions", "4", "--truth",
                           truth], stdout=subprocess.PIPE, check=True)
    alerts, config = os.path.join(work, "run.alerts.jsonl"), os.path.join(work, "run.yaml")
    if os.path.exists(alerts):
        os.remove(alerts)
    with open(config, "w") as f:
        f.write(f"kafka:\n  brokers: {brokers}\n  topics: [{topic}]\n  group_id: {topic}\n"
                f"sinks:\n  - type: file\n    path: {alerts}\n")
    run = subprocess.run([faultline, "run", "--config", config, "--exit-at-end", "--quiet",
                          "--progress-every", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=300)
    summary = run.stderr.decode().strip().splitlines()[-1]
    check(run.returncode == 0, f"run exited {run.returncode}: {summary}")
    check(json.loads(summary)["events"] == EVENTS, f"run read {summary}")
    with open(alerts) as f:
        scored("run", truth, f.read(), summary)
    finish()


if __name__ == "__main__":
    main()
