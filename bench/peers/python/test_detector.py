"""Unit tests of the Python peer's detection, no broker: documents go to Detector directly.

    python bench/peers/python/test_detector.py        (any python3 >= 3.11; no confluent-kafka)

The documents are the WAS samples of tests/testdata/envelopes with host, pool, pid and time changed.
"""

import copy
import json
import os
import re
import unittest
from datetime import datetime, timedelta, timezone

import detector

ENVELOPES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests",
                         "testdata", "envelopes")
T0 = datetime(2026, 3, 10, 9, 14, 3, tzinfo=timezone.utc)


def _samples(name):
    with open(os.path.join(ENVELOPES, name + ".jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# The WAS 5011 sample (a worker failure) of each envelope, and its background lines.
SAMPLES = {name: _samples(name)
           for name in ("winlogbeat8", "winlogbeat7", "nxlog_ce", "fluentbit_winevtlog")}
ENVELOPE_NAMES = tuple(SAMPLES)


def _template(envelope):
    for doc in SAMPLES[envelope]:
        eid = doc["winlog"]["event_id"] if "winlog" in doc else doc["EventID"]
        if int(eid) == 5011:
            return doc
    raise LookupError(envelope)


def _message(text, pool, pid):
    text = re.sub(r"application pool '[^']*'", f"application pool '{pool}'", text)
    return re.sub(r"process id was '\d+'", f"process id was '{pid}'", text)


def failure(envelope, host, pool, pid, when, event_id=5011, provider=None):
    """A worker failure document in `envelope`; `when` is an aware datetime."""
    doc = copy.deepcopy(_template(envelope))
    w3svc = 1009 <= event_id <= 1013
    if envelope in ("winlogbeat8", "winlogbeat7"):
        w = doc["winlog"]
        w["provider_name"] = provider or ("Microsoft-Windows-W3SVC" if w3svc else w["provider_name"])
        w["event_id"] = str(event_id) if envelope == "winlogbeat8" else event_id
        w["computer_name"] = host
        w["event_data"]["AppPoolID"] = pool
        w["event_data"]["ProcessID"] = str(pid)
        doc["message"] = _message(doc["message"], pool, pid)
        doc["@timestamp"] = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    elif envelope == "nxlog_ce":
        doc["SourceName"] = provider or ("W3SVC" if w3svc else doc["SourceName"])
        doc["EventID"] = event_id
        doc["Hostname"] = host
        doc["AppPoolID"] = pool
        doc["Message"] = _message(doc["Message"], pool, pid)
        doc["EventTime"] = when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    else:  # fluentbit_winevtlog: local time with its offset (US Eastern in the sample)
        doc["ProviderName"] = provider or ("Microsoft-Windows-W3SVC" if w3svc else doc["ProviderName"])
        doc["EventID"] = event_id
        doc["Computer"] = host
        doc["StringInserts"] = [pool, pid]
        doc["Message"] = _message(doc["Message"], pool, pid)
        local = when.astimezone(timezone(timedelta(hours=-5)))
        doc["TimeCreated"] = local.strftime("%Y-%m-%d %H:%M:%S %z")
    return doc


def noise(envelope):
    """The sample lines that are not worker failures (Application Error 1000, WAS 5002, ...)."""
    out = []
    for doc in SAMPLES[envelope]:
        eid = int(doc["winlog"]["event_id"] if "winlog" in doc else doc["EventID"])
        if eid not in detector._WAS_FAILURES:
            out.append(doc)
    return out


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def iso(seconds):
    return detector.format_time(detector._micros(at(seconds)))


class DetectorTest(unittest.TestCase):
    def run_docs(self, docs):
        d = detector.Detector()
        alerts = []
        for doc in docs:
            alerts.extend(d.on_value(json.dumps(doc).encode()))
        return d, [(a["rule"], a["host"], a["app_pool"], a["event_time"]) for a in alerts]

    def test_three_distinct_pids_is_a_burst_in_each_envelope(self):
        for env in ENVELOPE_NAMES:
            with self.subTest(envelope=env):
                d, alerts = self.run_docs(
                    [failure(env, "WEB001.contoso.local", "ShopApi", pid, at(s))
                     for pid, s in ((101, 0), (102, 60), (103, 120))])
                self.assertEqual(alerts, [(detector.BURST, "WEB001.contoso.local", "ShopApi",
                                           iso(120))])
                self.assertEqual((d.failures, d.unparsed, d.alerts), (3, 0, 1))

    def test_four_distinct_pids_is_burst_then_imminent(self):
        docs = [failure(env, "WEB002", "Checkout", 200 + i, at(30 * i))
                for i, env in enumerate(ENVELOPE_NAMES)]  # one failure from each envelope
        _, alerts = self.run_docs(docs)
        self.assertEqual(alerts, [(detector.BURST, "WEB002", "Checkout", iso(60)),
                                  (detector.IMMINENT, "WEB002", "Checkout", iso(90))])

    def test_a_redelivered_pid_counts_once(self):
        docs = [failure("winlogbeat8", "WEB003", "P", 301, at(0)),
                failure("winlogbeat8", "WEB003", "P", 302, at(10)),
                failure("winlogbeat8", "WEB003", "P", 301, at(20))]
        d, alerts = self.run_docs(docs)
        self.assertEqual(alerts, [])
        self.assertEqual(d.failures, 3)
        _, alerts = self.run_docs(docs + [failure("nxlog_ce", "WEB003", "P", 303, at(30))])
        self.assertEqual(alerts, [(detector.BURST, "WEB003", "P", iso(30))])

    def test_failures_spread_over_more_than_the_window(self):
        _, alerts = self.run_docs([failure("winlogbeat7", "WEB004", "P", 400 + i, at(160 * i))
                                   for i in range(6)])
        self.assertEqual(alerts, [])

    def test_exactly_five_minutes_apart_is_outside_the_window(self):
        _, alerts = self.run_docs([failure("winlogbeat8", "H", "P", 1, at(0)),
                                   failure("winlogbeat8", "H", "P", 2, at(150)),
                                   failure("winlogbeat8", "H", "P", 3, at(300))])
        self.assertEqual(alerts, [])
        _, alerts = self.run_docs([failure("winlogbeat8", "H", "P", 1, at(0)),
                                   failure("winlogbeat8", "H", "P", 2, at(150)),
                                   failure("winlogbeat8", "H", "P", 3, at(299.999))])
        self.assertEqual(len(alerts), 1)

    def test_once_per_incident_and_rearmed_after_the_window_empties(self):
        # Failures every 60 s for 12 minutes: one incident, one alert of each rule.
        docs = [failure("fluentbit_winevtlog", "H", "P", 1000 + i, at(60 * i)) for i in range(12)]
        # 5 quiet minutes (the last was at 660 s), then a new incident.
        docs += [failure("fluentbit_winevtlog", "H", "P", 2000 + i, at(960 + 10 * i))
                 for i in range(3)]
        _, alerts = self.run_docs(docs)
        self.assertEqual(alerts, [(detector.BURST, "H", "P", iso(120)),
                                  (detector.IMMINENT, "H", "P", iso(180)),
                                  (detector.BURST, "H", "P", iso(980))])

    def test_less_than_a_quiet_window_does_not_rearm(self):
        docs = [failure("nxlog_ce", "H", "P", 1 + i, at(10 * i)) for i in range(3)]
        # 299 s after the last one: the window (20, 319] still holds it, so the incident goes on
        # and its window later holds 3 newer pids without a second burst; 4 still raise imminent.
        docs += [failure("nxlog_ce", "H", "P", 10 + i, at(20 + 299 + 10 * i)) for i in range(4)]
        _, alerts = self.run_docs(docs)
        self.assertEqual(alerts, [(detector.BURST, "H", "P", iso(20)),
                                  (detector.IMMINENT, "H", "P", iso(349))])

    def test_keys_are_host_and_pool(self):
        docs = []
        for i in range(3):
            docs.append(failure("winlogbeat8", "A", "P1", 10 + i, at(i)))
            docs.append(failure("winlogbeat8", "A", "P2", 20 + i, at(i)))
            docs.append(failure("winlogbeat8", "B", "P1", 30 + i, at(i)))
        docs.append(failure("winlogbeat8", "C", "P1", 1, at(0)))
        docs.append(failure("winlogbeat8", "C", "P2", 2, at(0)))
        docs.append(failure("winlogbeat8", "D", "P1", 3, at(0)))
        _, alerts = self.run_docs(docs)
        self.assertEqual(sorted((h, p) for _, h, p, _ in alerts),
                         [("A", "P1"), ("A", "P2"), ("B", "P1")])

    def test_each_host_runs_on_its_own_event_time(self):
        # LAGGING's forwarder is 3 hours behind; its failures interleave with PROMPT's.
        docs = []
        for i in range(3):
            docs.append(failure("winlogbeat8", "PROMPT", "P", 50 + i, at(3 * 3600 + 60 * i)))
            docs.append(failure("nxlog_ce", "LAGGING", "P", 60 + i, at(60 * i)))
        _, alerts = self.run_docs(docs)
        self.assertEqual(alerts, [(detector.BURST, "PROMPT", "P", iso(3 * 3600 + 120)),
                                  (detector.BURST, "LAGGING", "P", iso(120))])

    def test_out_of_order_within_the_window_counts(self):
        _, alerts = self.run_docs([failure("winlogbeat8", "H", "P", 1, at(100)),
                                   failure("winlogbeat8", "H", "P", 2, at(20)),
                                   failure("winlogbeat8", "H", "P", 3, at(250))])
        self.assertEqual(alerts, [(detector.BURST, "H", "P", iso(250))])
        # Older than the window of the newest: too late to count.
        _, alerts = self.run_docs([failure("winlogbeat8", "H", "P", 1, at(400)),
                                   failure("winlogbeat8", "H", "P", 2, at(410)),
                                   failure("winlogbeat8", "H", "P", 3, at(10))])
        self.assertEqual(alerts, [])

    def test_w3svc_failures_count_and_other_events_do_not(self):
        for env in ENVELOPE_NAMES:
            with self.subTest(envelope=env):
                docs = noise(env) + [failure(env, "H", "P", 1, at(0), event_id=1009),
                                     failure(env, "H", "P", 2, at(1), event_id=1011)]
                docs += noise(env)
                docs.append(failure(env, "H", "P", 3, at(2), event_id=5013))
                docs.append(failure(env, "H", "P", 4, at(3), event_id=5014))  # not a failure
                docs.append(failure(env, "H", "P", 5, at(4), event_id=5002))  # disabled: ignored
                d, alerts = self.run_docs(docs)
                self.assertEqual(alerts, [(detector.BURST, "H", "P", iso(2))])
                self.assertEqual((d.failures, d.unparsed), (3, 0))

    def test_the_untouched_samples(self):
        # Each sample file: 5009 + four 5011 of distinct pids in under 2 minutes. The NXLog
        # sample's zone-less EventTime says 10:14, read as UTC (as faultline does by default).
        for env in ENVELOPE_NAMES:
            with self.subTest(envelope=env):
                d, alerts = self.run_docs(SAMPLES[env])
                self.assertEqual([(r, h, p) for r, h, p, _ in alerts],
                                 [(detector.BURST, "EXCH01.contoso.local", "MSExchangeOWAAppPool"),
                                  (detector.IMMINENT, "EXCH01.contoso.local",
                                   "MSExchangeOWAAppPool")])
                hour = "10" if env == "nxlog_ce" else "09"
                self.assertEqual([t for *_, t in alerts],
                                 [f"2026-03-10T{hour}:14:58Z", f"2026-03-10T{hour}:15:29Z"])
                self.assertEqual(d.failures, 5)

    def test_pid_from_the_message_when_event_data_has_none(self):
        docs = []
        for i in range(3):
            doc = failure("winlogbeat8", "H", "P", 70 + i, at(i))
            del doc["winlog"]["event_data"]["ProcessID"]
            docs.append(doc)
        dup = copy.deepcopy(docs[0])
        _, alerts = self.run_docs([docs[0], dup, docs[1]])
        self.assertEqual(alerts, [])  # the message's pid dedups too
        _, alerts = self.run_docs(docs)
        self.assertEqual(len(alerts), 1)

    def test_nxlog_top_level_process_id_is_not_the_worker(self):
        docs = [failure("nxlog_ce", "H", "P", 80 + i, at(i)) for i in range(3)]
        self.assertTrue(all(doc["ProcessID"] == 0 for doc in docs))
        _, alerts = self.run_docs(docs)
        self.assertEqual(len(alerts), 1)

    def test_fluentbit_pid_as_string_or_number(self):
        docs = [failure("fluentbit_winevtlog", "H", "P", 90 + i, at(i)) for i in range(3)]
        docs[1]["StringInserts"][1] = str(docs[1]["StringInserts"][1])
        dup = copy.deepcopy(docs[0])
        dup["StringInserts"][1] = str(dup["StringInserts"][1])
        _, alerts = self.run_docs([docs[0], dup, docs[1]])
        self.assertEqual(alerts, [])
        _, alerts = self.run_docs(docs)
        self.assertEqual(len(alerts), 1)

    def test_times_of_each_envelope_are_utc(self):
        when = datetime(2026, 3, 10, 23, 59, 58, 250000, tzinfo=timezone.utc)
        expected = detector._micros(when)
        for env in ENVELOPE_NAMES:
            with self.subTest(envelope=env):
                got = detector.extract_failure(failure(env, "H", "P", 1, when))[3]
                whole = env in ("nxlog_ce", "fluentbit_winevtlog")  # whole seconds in these
                self.assertEqual(got, expected - 250000 if whole else expected)
        doc = failure("winlogbeat8", "H", "P", 1, when)
        doc["@timestamp"] = "2026-03-10T23:59:58.123456Z"
        self.assertEqual(detector.format_time(detector.extract_failure(doc)[3]),
                         "2026-03-10T23:59:58.123456Z")
        self.assertEqual(detector.format_time(expected), "2026-03-10T23:59:58.25Z")

    def test_bad_documents_are_counted_not_fatal(self):
        good = [failure("winlogbeat8", "H", "P", 1 + i, at(i)) for i in range(3)]
        bad_time = failure("winlogbeat8", "H", "P", 9, at(0))
        bad_time["@timestamp"] = "yesterday"
        no_host = failure("nxlog_ce", "H", "P", 9, at(0))
        del no_host["Hostname"]
        bad_id = failure("fluentbit_winevtlog", "H", "P", 9, at(0))
        bad_id["ProviderName"], bad_id["EventID"] = "Microsoft-Windows-WAS", "five"
        d = detector.Detector()
        alerts = []
        values = [b"", b"{", b"not json", b"\xff\xfe{}", b"[1,2]", b"42", b"null", None,
                  json.dumps(bad_time).encode(), json.dumps(no_host).encode(),
                  json.dumps(bad_id).encode(), b'{"winlog": "text"}']
        for value in values[:6] + [json.dumps(good[0]).encode()] + values[6:]:
            alerts.extend(d.on_value(value))
        for doc in good[1:]:
            alerts.extend(d.on_value(json.dumps(doc)))
        self.assertEqual(d.unparsed, len(values))
        self.assertEqual(len(alerts), 1)
        self.assertEqual(d.failures, 3)
        # Documents that parse but are no failure are neither unparsed nor failures.
        d = detector.Detector()
        for value in (b"{}", b'{"message": "hello"}', b'{"winlog": {}}', b'{"SourceName": "X"}'):
            d.on_value(value)
        self.assertEqual((d.unparsed, d.failures), (0, 0))

    def test_parse_properties(self):
        self.assertEqual(detector.parse_properties(
            "fetch.queue.backoff.ms=10,queued.min.messages=20000, queued.max.messages.kbytes=16384"),
            {"fetch.queue.backoff.ms": "10", "queued.min.messages": "20000",
             "queued.max.messages.kbytes": "16384"})
        self.assertEqual(detector.parse_properties(""), {})
        with self.assertRaises(Exception):
            detector.parse_properties("novalue")


if __name__ == "__main__":
    unittest.main(verbosity=2)
