#!/usr/bin/env python3
"""IIS worker-failure detection from Windows event logs on Kafka, in plain Python.

The Python peer of faultline's end-to-end benchmark: what a user would write instead of running
faultline. A confluent-kafka group consumer reads one JSON document per message (Winlogbeat 7/8,
NXLog CE or Fluent Bit winevtlog envelopes), picks out the IIS worker failures (WAS 5009-5013,
W3SVC 1009-1013) and, per (host, app pool), keeps a 5-minute event-time window of the distinct
worker pids that failed:

  iis_worker_failure_burst   3 distinct pids in the window
  iis_rapid_fail_imminent    4 distinct pids in the window

Each rule fires once per incident; it re-arms when the pool's window has emptied (no failure for
5 minutes of that pool's own event time). Alerts are JSON lines in --alerts; one JSON summary line
goes to stdout at exit.

  python detector.py --bootstrap 127.0.0.1:9092 --topic T --group G --alerts alerts.jsonl \
      [--expect N] [--properties k=v,...] [--timeout-seconds 1800]
"""

import argparse
import json
import re
import sys
import time
from collections import deque
from datetime import datetime, timedelta, timezone

WINDOW_US = 5 * 60 * 1_000_000
BURST_AT = 3
IMMINENT_AT = 4
BURST = "iis_worker_failure_burst"
IMMINENT = "iis_rapid_fail_imminent"

_WAS_FAILURES = frozenset(range(5009, 5014))
_W3SVC_FAILURES = frozenset(range(1009, 1014))
# Provider name -> the event ids that are worker failures.
FAILURE_EVENTS = {
    "Microsoft-Windows-WAS": _WAS_FAILURES,
    "WAS": _WAS_FAILURES,
    "Microsoft-Windows-W3SVC": _W3SVC_FAILURES,
    "Microsoft-Windows-IIS-W3SVC": _W3SVC_FAILURES,
    "W3SVC": _W3SVC_FAILURES,
}

_PID_RE = re.compile(r"[Tt]he process id was '(\d+)'")
_POOL_RE = re.compile(r"application pool '([^']*)'")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_US = timedelta(microseconds=1)


class BadDocument(ValueError):
    """A failure event whose fields cannot be read."""


def _micros(dt):
    """Microseconds since the epoch; a time without a zone is UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return (dt - _EPOCH) // _ONE_US


def format_time(us):
    """RFC 3339 UTC, with as many fraction digits as needed (none for whole seconds)."""
    dt = _EPOCH + timedelta(microseconds=us)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += (".%06d" % dt.microsecond).rstrip("0")
    return text + "Z"


def _pid(value, message):
    if value not in (None, ""):
        return int(value)
    match = _PID_RE.search(message or "")
    return int(match.group(1)) if match else 0  # 0: unknown, counted every time


def _pool(value, message):
    if value:
        return value
    match = _POOL_RE.search(message or "")
    if not match:
        raise BadDocument("no application pool")
    return match.group(1)


def extract_failure(doc):
    """(host, app_pool, pid, event_time_us) for a worker failure, None for anything else.

    Raises BadDocument (a ValueError) for a failure event whose fields cannot be read.
    """
    if not isinstance(doc, dict):
        raise BadDocument("not a JSON object")
    winlog = doc.get("winlog")
    if winlog is not None:  # Winlogbeat 7 (event_id a number) and 8 (a string)
        ids = FAILURE_EVENTS.get(winlog.get("provider_name"))
        if ids is None or int(winlog.get("event_id", 0)) not in ids:
            return None
        data = winlog.get("event_data") or {}
        message = doc.get("message")
        host = winlog["computer_name"]
        pool = _pool(data.get("AppPoolID"), message)
        pid = _pid(data.get("ProcessID"), message)
        when = datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00"))
    elif "SourceName" in doc:  # NXLog CE; its top-level ProcessID is the logger's, not the worker
        ids = FAILURE_EVENTS.get(doc["SourceName"])
        if ids is None or int(doc.get("EventID", 0)) not in ids:
            return None
        message = doc.get("Message")
        host = doc["Hostname"]
        pool = _pool(doc.get("AppPoolID"), message)
        pid = _pid(None, message)
        when = datetime.fromisoformat(doc["EventTime"])  # UTC, no zone
    elif "ProviderName" in doc:  # Fluent Bit winevtlog
        ids = FAILURE_EVENTS.get(doc["ProviderName"])
        if ids is None or int(doc.get("EventID", 0)) not in ids:
            return None
        message = doc.get("Message")
        inserts = doc.get("StringInserts") or []
        host = doc["Computer"]
        pool = _pool(inserts[0] if inserts else None, message)
        pid = _pid(inserts[1] if len(inserts) > 1 else None, message)
        when = datetime.strptime(doc["TimeCreated"], "%Y-%m-%d %H:%M:%S %z")
    else:
        return None
    if not isinstance(host, str) or not host or not isinstance(pool, str):
        raise BadDocument("no host or application pool")
    return host, pool, pid, _micros(when)


class PoolWindow:
    """The failures of one (host, app pool) in the last 5 minutes of its own event time."""

    __slots__ = ("failures", "burst_fired", "imminent_fired")

    def __init__(self):
        self.failures = deque()  # (time_us, pid), oldest first
        self.burst_fired = False
        self.imminent_fired = False


class Detector:
    """Feed it documents (dicts) or raw message values; it returns and counts the alerts."""

    def __init__(self):
        self.pools = {}  # (host, app_pool) -> PoolWindow
        self.failures = 0
        self.unparsed = 0
        self.alerts = 0

    def on_value(self, value):
        """One Kafka message value (bytes or str). Returns the alerts it raised."""
        try:
            doc = json.loads(value)
        except (TypeError, ValueError):  # also None (a tombstone) and bad UTF-8
            self.unparsed += 1
            return ()
        return self.on_document(doc)

    def on_document(self, doc):
        try:
            failure = extract_failure(doc)
        except (KeyError, TypeError, ValueError, AttributeError):
            self.unparsed += 1
            return ()
        if failure is None:
            return ()
        self.failures += 1
        return self.on_failure(*failure)

    def on_failure(self, host, pool, pid, t):
        state = self.pools.get((host, pool))
        if state is None:
            state = self.pools[(host, pool)] = PoolWindow()
        window = state.failures
        if window:
            newest = window[-1][0]
            if t - newest >= WINDOW_US:
                # The window emptied before this failure: the incident is over, both rules re-arm.
                window.clear()
                state.burst_fired = state.imminent_fired = False
            elif t <= newest - WINDOW_US:
                return ()  # older than the window: too late to count
            elif pid and any(p == pid for _, p in window):
                return ()  # the same worker again (a redelivered record): it died once
        if not window or t >= window[-1][0]:
            window.append((t, pid))
        else:  # out of order within the window: keep the deque sorted by time
            i = len(window)
            while i > 0 and window[i - 1][0] > t:
                i -= 1
            window.insert(i, (t, pid))
        horizon = window[-1][0] - WINDOW_US
        while window[0][0] <= horizon:
            window.popleft()

        alerts = []
        count = len(window)
        if count >= BURST_AT and not state.burst_fired and not state.imminent_fired:
            state.burst_fired = True
            alerts.append({"rule": BURST, "host": host, "app_pool": pool,
                           "event_time": format_time(t)})
        if count >= IMMINENT_AT and not state.imminent_fired:
            state.imminent_fired = True
            alerts.append({"rule": IMMINENT, "host": host, "app_pool": pool,
                           "event_time": format_time(t)})
        self.alerts += len(alerts)
        return alerts


def parse_properties(text):
    props = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"--properties: expected key=value, got {item!r}")
        props[key.strip()] = value.strip()
    return props


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True, help="bootstrap.servers")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True, help="group.id")
    parser.add_argument("--alerts", required=True, help="file the alerts are written to (JSONL)")
    parser.add_argument("--expect", type=int, help="also wait until this many records were read")
    parser.add_argument("--properties", type=parse_properties, default={},
                        help="extra librdkafka settings, k=v,k=v")
    parser.add_argument("--timeout-seconds", type=float, default=1800.0)
    parser.add_argument("--batch", type=int, default=10000, help="consume() num_messages")
    args = parser.parse_args(argv)

    import confluent_kafka
    from confluent_kafka import Consumer, KafkaError, KafkaException

    librdkafka = confluent_kafka.libversion()[0]
    config = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": True,
        "enable.partition.eof": True,
    }
    config.update(args.properties)
    print(f"detector.py: confluent-kafka {confluent_kafka.__version__}, librdkafka {librdkafka}, "
          f"settings {json.dumps(config, sort_keys=True)}", file=sys.stderr)

    assigned, at_end = set(), set()

    def on_assign(consumer, partitions):
        assigned.update((p.topic, p.partition) for p in partitions)

    def on_revoke(consumer, partitions):
        for p in partitions:
            assigned.discard((p.topic, p.partition))
            at_end.discard((p.topic, p.partition))

    detector = Detector()
    records = 0
    first = last = None
    done = False
    deadline = time.monotonic() + args.timeout_seconds
    consumer = Consumer(config)
    consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
    try:
        with open(args.alerts, "w", encoding="utf-8") as alerts_file:
            while not done and time.monotonic() < deadline:
                batch = consumer.consume(num_messages=args.batch, timeout=1.0)
                before = records
                for msg in batch:
                    err = msg.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            at_end.add((msg.topic(), msg.partition()))
                        elif err.fatal():
                            raise KafkaException(err)
                        else:
                            print(f"detector.py: {err}", file=sys.stderr)
                        continue
                    if first is None:
                        first = time.monotonic()
                    records += 1
                    if at_end:
                        at_end.discard((msg.topic(), msg.partition()))
                    for alert in detector.on_value(msg.value()):
                        alerts_file.write(json.dumps(alert) + "\n")
                if records != before:
                    last = time.monotonic()
                done = (bool(assigned) and at_end >= assigned
                        and (args.expect is None or records >= args.expect))
            ended = f"{len(at_end & assigned)} of {len(assigned)} partitions at their end"
    finally:
        consumer.close()

    seconds = (last - first) if first is not None else 0.0
    print(json.dumps({"records": records, "unparsed": detector.unparsed,
                      "failures": detector.failures, "alerts": detector.alerts,
                      "seconds": round(seconds, 6), "librdkafka": librdkafka}))
    if not done:
        print(f"detector.py: timed out after {args.timeout_seconds:g}s with {records} records"
              + (f" of {args.expect}" if args.expect is not None else "")
              + f", {ended}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
