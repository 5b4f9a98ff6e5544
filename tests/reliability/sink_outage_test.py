#!/usr/bin/env python3
"""Sinks that fail under load lose no alert and hold no unbounded memory (issue 14's scenario 3).

  --fault outage  bench/loadgen streams a live fleet (200 hosts, an incident every INCIDENT_EVERY
                  events) at RATE events/s. faultline delivers to a webhook receiver (this
                  script's HTTP server), a real Alertmanager (Debian's) and a file. Both receivers
                  go down for OUTAGE seconds while the stream goes on (connections refused), then
                  come back on the same ports. Alertmanager comes back empty (it keeps no alerts
                  across a restart): faultline's re-sending of firing alerts must fill it again.
                  Then every incident of the truth must be at the webhook receiver and active
                  in Alertmanager, nothing dropped, and the run stops on SIGTERM with exit 0.
  --fault slow    a fleet already in the topic; a webhook receiver that takes SLOW_SECONDS to
                  answer each request, a queue of QUEUE alerts: the queue fills, the consumer
                  pauses its partitions (back-pressure) instead of buffering, and the run reaches
                  the end with every incident delivered.

Peak RSS is sampled throughout and must stay under RSS_LIMIT_MIB. Prints the figures and writes
them to WORK_DIR/result.json (RELIABILITY.md's table).

  sink_outage_test.py LOADGEN FAULTLINE BOOTSTRAP_FILE WORK_DIR --fault outage|slow
"""
import argparse
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import score  # noqa: E402
from kafka_check import free_port, brokers, check, finish, lines  # noqa: E402
import kafka_check  # noqa: E402
from stream_fault_test import Member  # noqa: E402

HOSTS, PARTITIONS = 200, 12
OUTAGE = 120          # seconds both receivers are down
RATE = 3_000          # live events per second
BEFORE, AFTER = 20, 30  # seconds of stream before the outage and after it
INCIDENT_EVERY = 4_000
SLOW_SECONDS, QUEUE, SLOW_EVENTS, SLOW_EVERY = 5, 10, 100_000, 5_000
RSS_LIMIT_MIB = 1024
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


class Receiver:
    """A webhook receiver on a fixed loopback port that can go down (its socket closed: the
    connection is refused) and come back; it writes every alert it accepted, one JSON per line,
    to `path`, and answers after `delay` seconds."""

    def __init__(self, path, delay=0.0):
        self.path, self.delay, self.port = path, delay, free_port()
        self.requests, self.server, self.lock = 0, None, threading.Lock()
        self.up()

    def up(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(receiver.delay)
                doc = json.loads(body)
                with receiver.lock:
                    receiver.requests += 1
                    with open(receiver.path, "a") as f:
                        for alert in doc if isinstance(doc, list) else [doc]:
                            f.write(json.dumps(alert) + "\n")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"


class Alertmanager:
    """Debian's Alertmanager on a fixed loopback port, no clustering, notifying nobody."""

    def __init__(self, work):
        self.dir, self.port, self.proc = os.path.join(work, "alertmanager"), free_port(), None
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "alertmanager.yml"), "w") as f:
            f.write("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n")
        self.up()

    def up(self):
        log = open(os.path.join(self.dir, "alertmanager.log"), "a")
        self.proc = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={self.dir}/alertmanager.yml",
             f"--storage.path={self.dir}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address=", "--log.level=warn"], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url() + "/-/ready", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        check(False, "Alertmanager did not become ready")

    def down(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.proc = None

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def active(self):
        """Its active alerts as faultline's alert JSON would name them (score.py's keys)."""
        try:
            with urllib.request.urlopen(self.url() + "/api/v2/alerts?active=true",
                                        timeout=5) as r:
                alerts = json.load(r)
        except OSError:
            return []
        out = []
        for a in alerts:
            labels = a["labels"]
            out.append(json.dumps({"rule": labels.get("alertname", ""),
                                   "host": labels.get("host", ""),
                                   "app_pool": labels.get("app_pool", ""),
                                   "service": labels.get("service", "")}))
        return out


def recall(truth, notified):
    with open(truth) as f:
        return score.score(f, notified)


def write_config(path, broker_list, topic, sinks, extra=""):
    with open(path, "w") as f:
        f.write(f"kafka:\n  brokers: {broker_list}\n  topics: [{topic}]\n  group_id: {topic}\n"
                f"  commit_interval: 500ms\n{extra}sinks:\n{sinks}")


def outage(args, work, figures):
    broker_list = brokers(args.bootstrap_file)
    topic = f"sink-outage-{os.getpid()}-{int(time.time())}"
    truth = os.path.join(work, "truth.jsonl")
    seconds = BEFORE + OUTAGE + AFTER
    events = RATE * seconds
    # The topic first (empty), so that faultline is reading when the stream starts.
    kafka_check.create_topic(args.loadgen, broker_list, topic, PARTITIONS)
    hook = Receiver(os.path.join(work, "webhook.jsonl"))
    am = Alertmanager(work)
    alerts = os.path.join(work, "alerts.jsonl")
    config = os.path.join(work, "run.yaml")
    write_config(config, broker_list, topic,
                 f"  - type: file\n    path: {alerts}\n"
                 f"  - type: webhook\n    name: hook\n    url: {hook.url()}\n    batch_size: 20\n"
                 f"  - type: alertmanager\n    url: {am.url()}\n    resend_interval: 20s\n",
                 extra="delivery:\n  retry_backoff_max: 10s\n")
    run = Member(args.faultline, config, work, "run")
    loadgen = subprocess.Popen(
        [args.loadgen, "--brokers", broker_list, "--topic", topic, "--partitions",
         str(PARTITIONS), "--no-create", "--events", str(events), "--rate", str(RATE),
         "--hosts", str(HOSTS), "--incident-every", str(INCIDENT_EVERY), "--truth", truth],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "loadgen.stderr"), "w"))
    try:
        # A live stream: render first (loadgen says so), then RATE a second.
        deadline = time.monotonic() + 120 + BEFORE
        while len(lines(alerts)) < 3 and time.monotonic() < deadline:
            check(run.poll() is None, f"faultline exited: {run.log()[-2000:]}")
            time.sleep(0.2)
        time.sleep(BEFORE / 2)
        before = len(lines(os.path.join(work, "webhook.jsonl")))
        check(before > 0, "nothing reached the webhook receiver before the outage")
        hook.down()
        am.down()
        rss_before = run.peak_kib
        went_down = time.monotonic()
        raised_during = len(lines(alerts))
        while time.monotonic() - went_down < OUTAGE:
            check(run.poll() is None, "faultline exited while its receivers were down")
            time.sleep(0.5)
        raised_during = len(lines(alerts)) - raised_during
        at_down = len(lines(hook.path))
        hook.up()
        am.up()
        back = time.monotonic()
        # The first alert after the receivers came back: the queued ones, at the next retry.
        while len(lines(hook.path)) == at_down and time.monotonic() - back < 60:
            run.poll()
            time.sleep(0.1)
        first_back = time.monotonic() - back
        check(loadgen.wait(timeout=seconds + 180) == 0, "loadgen failed")
        with open(truth) as f:
            incidents = sum(1 for line in f if line.strip())
        # Everything raised reaches both receivers (the webhook's queue drains at the next
        # retry, at most retry_backoff_max; Alertmanager at the next resend).
        hook_all = am_all = None
        while time.monotonic() - back < OUTAGE + 120 and (hook_all is None or am_all is None):
            run.poll()
            if hook_all is None and recall(truth, lines(hook.path))["recall"] == 1.0:
                hook_all = time.monotonic() - back
            if am_all is None and recall(truth, am.active())["recall"] == 1.0:
                am_all = time.monotonic() - back
            time.sleep(0.5)
        hook_score = recall(truth, lines(hook.path))
        am_score = recall(truth, am.active())
        check(hook_score["recall"] == 1.0, f"webhook: missed {hook_score['missed']}")
        check(hook_score["precision"] == 1.0, f"webhook: unexpected {hook_score['unexpected']}")
        check(am_score["recall"] == 1.0, f"Alertmanager: missed {am_score['missed']}")
        split = [k for k, v in kafka_check.incidents(lines(hook.path)).items() if len(v) > 1]
        check(not split, f"incidents notified under two fingerprints: {split[:5]}")
        run.proc.send_signal(signal.SIGTERM)
        code = run.wait(60, "the run")
        check(code == 0, f"SIGTERM: the run exited {code}: {run.log()[-2000:]}")
        summary = run.summary()
        sinks = summary.get("sinks", {})
        for name in ("hook", "alertmanager"):
            check(sinks.get(name, {}).get("dropped", -1) == 0, f"{name}: dropped {sinks.get(name)}")
        check(summary.get("events", 0) >= events, f"read {summary.get('events')} of {events}")
        figures.update({
            "events": events, "rate": RATE, "incidents": incidents, "outage_seconds": OUTAGE,
            "alerts_raised_during_outage": raised_during,
            "webhook_alerted": round(hook_score["recall"] * incidents),
            "webhook_duplicated": hook_score["duplicates"],
            "alertmanager_active": round(am_score["recall"] * incidents),
            "webhook_first_seconds_after_back": round(first_back, 1),
            "webhook_all_seconds_after_back": round(hook_all, 1) if hook_all else None,
            "alertmanager_all_seconds_after_back": round(am_all, 1) if am_all else None,
            "webhook_retries": sinks.get("hook", {}).get("retried"),
            "events_read": summary.get("events", 0),
            "events_lost": max(0, events - summary.get("events", 0)),
            "rss_before_outage_mib": round(rss_before / 1024),
            "peak_rss_mib": round(run.peak_kib / 1024)})
    finally:
        if loadgen.poll() is None:
            loadgen.kill()
        if run.proc.poll() is None:
            run.proc.kill()
        if am.proc is not None:
            am.down()
    check(figures.get("peak_rss_mib", 0) < RSS_LIMIT_MIB, f"peak RSS {figures.get('peak_rss_mib')}")


def slow(args, work, figures):
    broker_list, topic, truth = kafka_check.fleet_topic(
        "sink-slow", args.loadgen, args.bootstrap_file, work, PARTITIONS, SLOW_EVENTS, HOSTS,
        SLOW_EVERY)
    with open(truth) as f:
        incidents = sum(1 for line in f if line.strip())
    hook = Receiver(os.path.join(work, "webhook.jsonl"), delay=SLOW_SECONDS)
    config = os.path.join(work, "run.yaml")
    write_config(config, broker_list, topic,
                 f"  - type: webhook\n    name: hook\n    url: {hook.url()}\n    batch_size: 10\n"
                 f"    queue_capacity: {QUEUE}\n    timeout: 30s\n",
                 extra="delivery:\n  shutdown_timeout: 30s\n")
    started = time.monotonic()
    run = Member(args.faultline, config, work, "run", "--exit-at-end")
    code = run.wait(600, "the run")
    check(code == 0, f"the run exited {code}: {run.log()[-2000:]}")
    s = recall(truth, lines(hook.path))
    check(s["recall"] == 1.0, f"missed {s['missed']}")
    check(s["precision"] == 1.0, f"unexpected {s['unexpected']}")
    summary = run.summary()
    pauses = 0
    for line in run.log().splitlines():
        if "back-pressure pauses" in line:
            pauses = int(line.rsplit(",", 1)[-1].split()[0])
    check(pauses > 0, "the queue never applied back-pressure")
    check(summary.get("events", 0) >= SLOW_EVENTS, f"read {summary.get('events')}")
    figures.update({
        "events": SLOW_EVENTS, "incidents": incidents, "response_seconds": SLOW_SECONDS,
        "queue_capacity": QUEUE, "requests": hook.requests, "back_pressure_pauses": pauses,
        "alerted": round(s["recall"] * incidents), "duplicated": s["duplicates"],
        "events_read": summary.get("events", 0),
        "events_lost": max(0, SLOW_EVENTS - summary.get("events", 0)),
        "run_seconds": round(time.monotonic() - started, 1),
        "peak_rss_mib": round(run.peak_kib / 1024)})
    hook.down()
    check(figures["peak_rss_mib"] < RSS_LIMIT_MIB, f"peak RSS {figures['peak_rss_mib']} MiB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("loadgen")
    parser.add_argument("faultline")
    parser.add_argument("bootstrap_file")
    parser.add_argument("work")
    parser.add_argument("--fault", choices=["outage", "slow"], required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    for name in ("webhook.jsonl", "alerts.jsonl"):
        if os.path.exists(os.path.join(args.work, name)):
            os.remove(os.path.join(args.work, name))
    if args.fault == "outage" and not os.access(ALERTMANAGER, os.X_OK):
        print(f"SKIPPED: {ALERTMANAGER} is not installed (./dev.sh test installs it)",
              file=sys.stderr)
        return
    figures = {"scenario": f"sink {args.fault}"}
    (outage if args.fault == "outage" else slow)(args, args.work, figures)
    with open(os.path.join(args.work, "result.json"), "w") as f:
        json.dump(figures, f)
    print(json.dumps(figures), file=sys.stderr)
    finish()


if __name__ == "__main__":
    main()
