"""What the Python tests against the real broker share: the failed checks they count (all are
reported, then the exit status says whether any failed), the broker's address, and topics that
bench/loadgen fills (or only creates) with its ground truth."""
import json
import os
import socket
import subprocess
import sys
import time

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAILED:", message, file=sys.stderr)


def finish():
    """Exits 1 if a check failed, after saying how many."""
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all checks passed", file=sys.stderr)


def free_port():
    """A loopback port nobody listens on now (for a receiver the test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def brokers(bootstrap_file):
    with open(bootstrap_file) as f:
        return f.read().strip()


def fill(loadgen, brokers_, topic, partitions, *args):
    """bench/loadgen's fleet into `topic` (created with `partitions`): ARGS are loadgen's own
    (--events, --hosts, --truth ...). Returns its stdout."""
    return subprocess.run([loadgen, *args, "--brokers", brokers_, "--topic", topic,
                           "--partitions", str(partitions)],
                          stdout=subprocess.PIPE, check=True).stdout


def fleet_topic(prefix, loadgen, bootstrap_file, work, partitions, events, hosts, every, *extra):
    """A new topic PREFIX-PID-TIME filled with a fleet of `hosts`, an incident every `every`
    events (EXTRA: more loadgen options); returns (brokers, topic, truth file)."""
    os.makedirs(work, exist_ok=True)
    brokers_ = brokers(bootstrap_file)
    topic = f"{prefix}-{os.getpid()}-{int(time.time())}"
    truth = os.path.join(work, "truth.jsonl")
    fill(loadgen, brokers_, topic, partitions, "--events", str(events), "--hosts", str(hosts),
         "--incident-every", str(every), "--truth", truth, *extra)
    return brokers_, topic, truth


def create_topic(loadgen, brokers_, topic, partitions):
    fill(loadgen, brokers_, topic, partitions, "--events", "1", "--create-only")


def incidents(notified):
    """(rule, host, pool, service) -> the fingerprints of its first notifications (alert JSON
    lines): one each, or a receiver could not deduplicate a notification sent twice."""
    found = {}
    for line in notified:
        a = json.loads(line)
        if a.get("status") == "firing" and a.get("sequence") == 1:
            key = (a["rule"], a.get("host", ""), a.get("app_pool", ""), a.get("service", ""))
            found.setdefault(key, set()).add(a["fingerprint"])
    return found


def lines(path):
    """The complete lines of a file another process is writing (none if it is not there yet)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line for line in f if line.endswith("\n")]
