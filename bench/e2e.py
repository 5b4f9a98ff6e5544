#!/usr/bin/env python3
"""faultline end to end, against the limit and against what users would build instead, on one
topic of one local Kafka broker, in one run.

  python3 bench/e2e.py [--events 10000000] [--hosts 1000] [--partitions 12] [--skip SYSTEM,...]

1. Fills a topic of 12 partitions with a fleet's events from bench/loadgen (1,000 hosts, four
   envelopes, lagging, skewed and duplicated, incidents of every detector, a ground truth).
2. Reads the whole topic, in turn, with:
   - bare:      bench/bare_consumer, which only counts messages and bytes, with the fetch settings
                faultline chooses (the limit), on Debian 12 (the host, librdkafka 2.0.2) and
                Debian 13 (the image's test stage, librdkafka 2.8.0);
   - faultline: `faultline run --exit-at-end`, every built-in detector, alerts to a file, on
                both platforms;
   - faultline with Sigma: the same with the sigma detector holding every rule of SigmaHQ's
                tree that loads (--sigma DIR), on both platforms (its own alerts set apart,
                the built-in detectors scored);
   - rekey:     `faultline rekey` of the same topic to one keyed by host (protobuf events), then
                `faultline run` with ingest.format faultline_event on it, on both platforms;
   - workers and instances: one `faultline run` of 1, 2 and 4 workers (kafka.workers), then 2
                and 3 instances of one worker in one group, with its pool topic, together;
   and faultline's restore: `faultline run` of the same group again, with nothing new to read,
   so every partition is read again from before its commit (the detectors' horizon plus the
   lateness): messages read again, and the time of the slowest partition;
   - streams:   bench/peers/kafka_streams (Kafka Streams, Jackson, a sliding window per host and
                pool), on the host's Java;
   - python:    bench/peers/python (confluent-kafka and json), on the host's Python.
   For each: events/s and MB/s (from the first message to the last, start-up excluded), CPU
   seconds per million events and peak RSS of the whole process, recall and precision against
   the ground truth (the peers only for the rules they implement: burst and imminent).
3. Live: faultline on Debian 13 reads topics that bench/loadgen fills at 50% and 90% of the rate
   it reached in step 2, for 20 s each (loadgen renders a live run's records first, in memory:
   about 6.5 GB at 90%, then sends each at its time; broker append time: LogAppendTime).
   Detection latency from the broker's append of the message that raised an alert to the alert,
   p50 and p99, from faultline's own histogram (faultline_broker_to_alert_seconds, as Prometheus'
   histogram_quantile reads it).
4. Writes bench/results/e2e.json and bench/results/e2e.png (gnuplot), and prints the Markdown
   table of BENCHMARKS.md.

Needs the host's release build (cmake --preset release && cmake --build --preset release), the
image's test stage (deploy/container/build.sh --target test), Java, Maven and gnuplot (installed
with apt-get when missing), and PyPI for the Python peer's venv. Takes 15-25 minutes for 10 M
events on 2 cores; --events 1000000 for a quick look.

  python3 bench/e2e.py --replot bench/results/e2e.json
      (the chart again, from the results and the run's data files in build-release/bench-e2e)
  python3 bench/e2e.py --measure -- COMMAND...
      (internal: runs COMMAND and prints its wall time, CPU time and peak RSS as JSON)"""
import argparse
import concurrent.futures
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-release")
WORK = os.path.join(BUILD, "bench-e2e")
IMAGE = "localhost/faultline-test:latest"
PODMAN = ["podman", "--runtime", "runc", "run", "--rm", "--network=host",
          "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
PEER_RULES = "iis_worker_failure_burst,iis_rapid_fail_imminent"
SIGMA_RULES = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "sigma", "rules")
sys.path.insert(0, os.path.join(ROOT, "bench"))
import score  # noqa: E402  (bench/score.py)


def log(message):
    print(f"e2e: {message}", file=sys.stderr, flush=True)


def measure(command):
    start = time.monotonic()
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = lambda text: text.decode(errors="replace").strip().splitlines() or [""]
    # faultline's restores: "kafka: TOPIC[P] restored in 1.234s" (absl durations: ms or s).
    restored = [float(m.group(1)) / (1000 if m.group(2) == "ms" else 1) for m in
                re.finditer(r"\] restored in ([0-9.]+)(ms|s)\b", proc.stderr.decode(errors="replace"))]
    return {"rc": proc.returncode, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mib": usage.ru_maxrss / 1024, "stderr_last": lines(proc.stderr)[-1],
            "stderr_tail": lines(proc.stderr)[-5:], "stdout_last": lines(proc.stdout)[-1],
            "restored_seconds": restored}


def run_measured(platform_, command, mounts=()):
    """Runs command on the platform through --measure, so every system is timed the same way
    (`mounts`: host directories the command reads, at the same path in the container)."""
    if platform_ == "debian12":
        wrapped = [sys.executable, os.path.abspath(__file__), "--measure", "--"] + command
    else:
        volumes = [a for m in mounts for a in ("-v", f"{m}:{m}:ro")]
        wrapped = PODMAN + ["-v", f"{ROOT}/bench:/bench:ro", "-v", f"{WORK}:{WORK}"] + volumes + [
            IMAGE, "python3", "/bench/e2e.py", "--measure", "--"] + command
    out = subprocess.run(wrapped, stdout=subprocess.PIPE, check=True).stdout.decode()
    return json.loads(out.strip().splitlines()[-1])


def need(condition, message):
    if not condition:
        sys.exit(f"e2e: {message}")


def apt_install(packages):
    missing = [p for p in packages if subprocess.run(["dpkg", "-s", p], stdout=subprocess.DEVNULL,
                                                     stderr=subprocess.DEVNULL).returncode != 0]
    if missing:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        log(f"installing {' '.join(missing)} with apt-get")
        subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing,
                       check=True)


def last_line(text):
    return (text.strip().splitlines() or [""])[-1]


def faultline_config(path, brokers, topic, group, alerts, metrics="", ingest="", workers=None,
                     detect=""):
    with open(path, "w") as f:
        f.write(f"kafka:\n  brokers: {brokers}\n  topics: [{topic}]\n  group_id: {group}\n"
                + (f"  workers: {workers}\n" if workers else "")
                + (f"metrics:\n  listen: {metrics}\n" if metrics else "")
                + (f"ingest:\n{ingest}" if ingest else "")
                + (f"detect:\n{detect}" if detect else "") +
                f"sinks:\n  - type: file\n    path: {alerts}\n")


def histogram_quantile(q, buckets):
    """Prometheus' histogram_quantile over [(le, cumulative)], le ascending, +Inf last."""
    total = buckets[-1][1]
    if total == 0:
        return None
    rank = q * total
    prev_le, prev_count = 0.0, 0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-9)
        prev_le, prev_count = le, count
    return prev_le


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def buckets_of(metrics_text, name):
    out = []
    for line in metrics_text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = line.split('le="')[1].split('"')[0]
            out.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
    return sorted(out)


def sample(metrics_text, name):
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.split()[-1])
    return total


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--measure" and sys.argv[2] == "--":
        print(json.dumps(measure(sys.argv[3:])))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--replot":  # the chart again from a results file
        with open(sys.argv[2]) as f:
            r = json.load(f)
        chart(os.path.dirname(os.path.abspath(sys.argv[2])), r["systems"], r["latency"])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--incident-every", type=int, default=10_000)
    parser.add_argument("--live-seconds", type=int, default=20)
    parser.add_argument("--skip", default="", help="systems to leave out: streams, python, "
                        "debian13, live, rekey, instances, sigma")
    parser.add_argument("--sigma", default=SIGMA_RULES,
                        help="the Sigma rules of the 'faultline with Sigma' run (default: "
                        "SigmaHQ's tree in ../shared/fixtures/sigma/rules)")
    parser.add_argument("--results", default=os.path.join(ROOT, "bench", "results"))
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    for tool in ("faultline", "bench/loadgen", "bench/bare_consumer"):
        need(os.access(os.path.join(BUILD, tool), os.X_OK),
             f"{BUILD}/{tool} is missing: cmake --preset release && cmake --build --preset release")
    if "debian13" not in skip:
        need(subprocess.run(["podman", "image", "exists", IMAGE]).returncode == 0,
             f"{IMAGE} is missing: deploy/container/build.sh --target test")
    apt_install(["gnuplot-nox"] + ([] if "streams" in skip else ["maven", "default-jdk-headless"]))
    jar = None
    if "streams" not in skip:
        log("building the Kafka Streams peer (Maven)")
        jar = last_line(subprocess.run([os.path.join(ROOT, "bench/peers/kafka_streams/build.sh")],
                                       stdout=subprocess.PIPE, check=True).stdout.decode())
    python = None
    if "python" not in skip:
        log("setting up the Python peer's venv")
        python = last_line(subprocess.run([os.path.join(ROOT, "bench/peers/python/setup.sh")],
                                          stdout=subprocess.PIPE, check=True).stdout.decode())
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(args.results, exist_ok=True)
    brokers = last_line(subprocess.run([os.path.join(ROOT, "deploy/local/kafka.sh"), "start",
                                        os.path.join(BUILD, "kafka-bench")],
                                       stdout=subprocess.PIPE, check=True).stdout.decode())
    stamp = time.strftime("%Y%m%d%H%M%S")
    topic = f"e2e-{stamp}"
    truth = os.path.join(WORK, f"{topic}.truth.jsonl")

    log(f"filling {topic}: {args.events:,} events, {args.hosts} hosts, {args.partitions} "
        "partitions")
    fill = subprocess.run([os.path.join(BUILD, "bench/loadgen"), "--events", str(args.events),
                           "--hosts", str(args.hosts), "--incident-every",
                           str(args.incident_every), "--brokers", brokers, "--topic", topic,
                           "--partitions", str(args.partitions), "--truth", truth],
                          stdout=subprocess.PIPE, check=True)
    filled = json.loads(last_line(fill.stdout.decode()))
    need(filled["messages"] == args.events, f"the topic holds {filled['messages']} events")
    log(f"filled in {filled['seconds']:.0f} s: {filled['bytes'] / filled['messages']:.0f} B "
        f"per event, {filled['incidents']} incidents, {filled['duplicates']} redelivered")

    with open(truth) as f:
        truth_lines = f.readlines()
    systems = []

    def record(name, platform_, result, consumed, seconds, alerts=None, rules=None, extra=None):
        need(result["rc"] == 0, f"{name} on {platform_} failed ({result['rc']}): "
             f"{result['stderr_tail']}")
        need(consumed == filled["messages"], f"{name} on {platform_} read {consumed} of "
             f"{filled['messages']}")
        entry = {"system": name, "platform": platform_,
                 "events_per_second": filled["messages"] / seconds,
                 "mb_per_second": filled["bytes"] / seconds / 1e6,
                 "seconds": seconds, "wall_seconds": result["wall"],
                 "cpu_seconds_per_million": result["cpu"] / filled["messages"] * 1e6,
                 "peak_rss_mib": result["rss_mib"]}
        if alerts is not None:
            with open(alerts) as f:
                s = score.score(truth_lines, f, set(rules.split(",")) if rules else None)
            entry.update({"recall": s["recall"], "precision": s["precision"],
                          "duplicates": s["duplicates"], "scored_rules": rules or "all",
                          "missed": s["missed"][:5], "unexpected": s["unexpected"][:5]})
        entry.update(extra or {})
        systems.append(entry)
        log(f"{name} ({platform_}): {entry['events_per_second']:,.0f} events/s, "
            f"{entry['cpu_seconds_per_million']:.2f} CPU s per M, {entry['peak_rss_mib']:.0f} MiB"
            + (f", recall {entry['recall']:.4f}, precision {entry['precision']:.4f}"
               if alerts is not None else ""))
        return entry

    platforms = ["debian12"] + ([] if "debian13" in skip else ["debian13"])
    restores = []
    for p in platforms:
        binaries = BUILD if p == "debian12" else "/src/build-release"
        group = f"{topic}-bare-{p}"
        r = run_measured(p, [f"{binaries}/bench/bare_consumer", brokers, topic, group,
                             "faultline"])
        out = json.loads(r["stdout_last"])
        record("bare librdkafka consumer", p, r, out["messages"], out["seconds"],
               extra={"librdkafka": out["librdkafka"], "settings": out["settings"]})

        group = f"{topic}-faultline-{p}"
        config = os.path.join(WORK, group + ".yaml")
        alerts = os.path.join(WORK, group + ".alerts.jsonl")
        faultline_config(config, brokers, topic, group, alerts)
        r = run_measured(p, [f"{binaries}/faultline", "run", "--config", config, "--exit-at-end",
                             "--quiet", "--progress-every", "0"])
        summary = json.loads(r["stderr_last"])
        record("faultline", p, r, summary["events"], summary["seconds"], alerts,
               extra={"alerts": summary["alerts"], "duplicates_dropped": summary["duplicates"],
                      "too_late": summary["too_late"], "clock_ahead": summary["clock_ahead"],
                      "state_keys": summary["state_keys"]})

        if "sigma" in skip:
            pass
        elif not os.path.isdir(args.sigma):
            log(f"faultline with Sigma left out: {args.sigma} is not a directory")
        else:
            # The same run with every Sigma rule of args.sigma loaded besides the built-in
            # detectors. The rules' own alerts (rule "sigma/...") are set apart before scoring:
            # the ground truth knows the built-in detectors only.
            sigma_group = f"{topic}-sigma-{p}"
            sigma_config = os.path.join(WORK, sigma_group + ".yaml")
            sigma_alerts = os.path.join(WORK, sigma_group + ".alerts.jsonl")
            rules = os.path.abspath(args.sigma)
            faultline_config(sigma_config, brokers, topic, sigma_group, sigma_alerts,
                             detect=f"  sigma:\n    rules: [{json.dumps(rules)}]\n")
            r = run_measured(p, [f"{binaries}/faultline", "run", "--config", sigma_config,
                                 "--exit-at-end", "--quiet", "--progress-every", "0"],
                             mounts=[rules])
            summary = json.loads(r["stderr_last"])
            builtin_alerts = sigma_alerts + ".builtin"
            sigma_raised = 0
            with open(sigma_alerts) as f, open(builtin_alerts, "w") as out:
                for line in f:
                    if json.loads(line).get("rule", "").startswith("sigma/"):
                        sigma_raised += 1
                    else:
                        out.write(line)
            record("faultline with Sigma", p, r, summary["events"], summary["seconds"],
                   builtin_alerts, extra={"alerts": summary["alerts"], "sigma_rules": rules,
                                          "sigma_notifications": sigma_raised})

        # A restart of the same group with nothing new to read: every partition is read again
        # from restore_span before its commit (or before an incident still open there).
        r = run_measured(p, [f"{binaries}/faultline", "run", "--config", config, "--exit-at-end",
                             "--progress-every", "0"])
        need(r["rc"] == 0, f"the restart on {p} failed: {r['stderr_tail']}")
        summary = json.loads(r["stderr_last"])
        slowest = max(r["restored_seconds"] or [0])
        restores.append({"platform": p, "partitions": len(r["restored_seconds"]),
                         "replayed": summary.get("replayed", 0), "slowest_seconds": slowest,
                         "seconds_per_million": slowest / max(1, summary.get("replayed", 0)) * 1e6,
                         "cpu_seconds": r["cpu"], "wall_seconds": r["wall"]})
        log(f"restore ({p}): {restores[-1]['partitions']} partitions, "
            f"{restores[-1]['replayed']:,} messages read again, the slowest partition in "
            f"{slowest:.2f} s ({restores[-1]['seconds_per_million']:.2f} s per million)")

        if "rekey" not in skip:
            # The rekey stage's cost: `faultline rekey` republishes the topic keyed by host as
            # protobuf events, then `run` detects on that topic (parsing protobuf, not JSON).
            by_host = f"{topic}-by-host-{p}"
            subprocess.run([os.path.join(BUILD, "bench/loadgen"), "--events", "1", "--brokers",
                            brokers, "--topic", by_host, "--partitions", str(args.partitions),
                            "--create-only"], stdout=subprocess.DEVNULL, check=True)
            group = f"{topic}-rekey-{p}"
            config = os.path.join(WORK, group + ".yaml")
            faultline_config(config, brokers, topic, group, os.path.join(WORK, group + ".none"),
                             ingest=f"  rekey_topic: {by_host}\n")
            r = run_measured(p, [f"{binaries}/faultline", "rekey", "--config", config,
                                 "--exit-at-end", "--quiet", "--progress-every", "0"])
            rekeyed = json.loads(r["stderr_last"])
            record("faultline rekey", p, r, rekeyed["events"], rekeyed["seconds"],
                   extra={"rekeyed": rekeyed["rekeyed"], "rejected": rekeyed["rejected"]})
            group = f"{topic}-rekeyed-run-{p}"
            config = os.path.join(WORK, group + ".yaml")
            alerts = os.path.join(WORK, group + ".alerts.jsonl")
            faultline_config(config, brokers, by_host, group, alerts,
                             ingest="  format: faultline_event\n")
            r = run_measured(p, [f"{binaries}/faultline", "run", "--config", config,
                                 "--exit-at-end", "--quiet", "--progress-every", "0"])
            summary = json.loads(r["stderr_last"])
            # It reads what rekey published: every event but the rejects.
            record("faultline run on the rekeyed topic", p, r,
                   summary["events"] + rekeyed["rejected"], summary["seconds"], alerts,
                   extra={"alerts": summary["alerts"]})

        if "instances" not in skip:
            scale_out(args, brokers, topic, p, binaries, filled, truth_lines, systems)

    if jar:
        group = f"{topic}-streams"
        alerts = os.path.join(WORK, group + ".alerts.jsonl")
        r = run_measured("debian12", ["java", "-jar", jar, "--bootstrap", brokers, "--topic",
                                      topic, "--application-id", group, "--expect",
                                      str(filled["messages"]), "--alerts", alerts,
                                      "--state-dir", os.path.join(WORK, group + ".state")])
        out = json.loads(r["stdout_last"])
        record("Kafka Streams", "debian12", r, out["records"], out["seconds"], alerts, PEER_RULES,
               extra={"dropped_late": out.get("dropped_late")})
    if python:
        group = f"{topic}-python"
        alerts = os.path.join(WORK, group + ".alerts.jsonl")
        r = run_measured("debian12", [python, os.path.join(ROOT, "bench/peers/python/detector.py"),
                                      "--bootstrap", brokers, "--topic", topic, "--group", group,
                                      "--alerts", alerts, "--expect", str(filled["messages"]),
                                      "--properties", "fetch.queue.backoff.ms=10,"
                                      "queued.min.messages=20000,"
                                      "queued.max.messages.kbytes=16384"])
        out = json.loads(r["stdout_last"])
        record("Python (confluent-kafka)", "debian12", r, out["records"], out["seconds"], alerts,
               PEER_RULES, extra={"librdkafka": out.get("librdkafka")})

    latency = []
    if "live" not in skip:
        live_platform = platforms[-1]
        best = max(s["events_per_second"] for s in systems
                   if s["system"] == "faultline" and s["platform"] == live_platform)
        for fraction in (0.25, 0.5, 0.9):
            latency.append(live_run(args, brokers, stamp, live_platform, best, fraction))

    write_results(args, filled, systems, latency, topic, restores)


class CpuSampler:
    """The machine's CPU time (all cores, seconds: busy, and stolen by other guests), sampled
    every 0.2 s, so that a window's share of it can be read afterwards."""

    def __init__(self):
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        tick = os.sysconf("SC_CLK_TCK")
        while True:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            # user nice system idle iowait irq softirq steal ...
            busy = v[0] + v[1] + v[2] + v[5] + v[6]
            self.samples.append((time.monotonic(), busy / tick, v[7] / tick))
            if self._stop.wait(0.2):
                return

    def stop(self):
        self._stop.set()
        self._thread.join()

    def cores(self, start, end):
        """Busy and stolen cores on average over [start, end] (monotonic seconds)."""
        first = min(self.samples, key=lambda s: abs(s[0] - start))
        last = min(self.samples, key=lambda s: abs(s[0] - end))
        span = max(last[0] - first[0], 1e-9)
        return (last[1] - first[1]) / span, (last[2] - first[2]) / span


def live_run(args, brokers, stamp, platform_, max_rate, fraction):
    rate = max_rate * fraction
    events = int(rate * args.live_seconds)
    topic = f"e2e-live-{stamp}-{int(fraction * 100)}"
    truth = os.path.join(WORK, topic + ".truth.jsonl")
    alerts = os.path.join(WORK, topic + ".alerts.jsonl")
    config = os.path.join(WORK, topic + ".yaml")
    port = 19500 + int(fraction * 10)
    loadgen = [os.path.join(BUILD, "bench/loadgen"), "--hosts", str(args.hosts),
               "--brokers", brokers, "--topic", topic, "--partitions", str(args.partitions),
               "--log-append-time", "--incident-every", str(max(1000, events // 400))]
    subprocess.run(loadgen + ["--events", "1", "--create-only"], stdout=subprocess.DEVNULL,
                   check=True)
    faultline_config(config, brokers, topic, topic, alerts, metrics=f"127.0.0.1:{port}")
    binaries = BUILD if platform_ == "debian12" else "/src/build-release"
    command = [f"{binaries}/faultline", "run", "--config", config, "--quiet", "--progress-every",
               "0"]
    if platform_ != "debian12":
        command = PODMAN + ["-v", f"{WORK}:{WORK}", IMAGE] + command
    log(f"live at {fraction:.0%} of {max_rate:,.0f}/s: {rate:,.0f} events/s for "
        f"{args.live_seconds} s ({topic})")
    stderr_path = os.path.join(WORK, topic + ".stderr")
    stderr_file = open(stderr_path, "w")  # a file, not a pipe nobody reads until the end
    proc = subprocess.Popen(command, stderr=stderr_file)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.5)
    else:
        proc.kill()
        sys.exit("e2e: faultline did not become ready within 60 s")
    time.sleep(2)  # the group assignment after /readyz
    faultline_cpu = sample(scrape(port), "process_cpu_seconds_total")
    cpu = CpuSampler()
    produced = subprocess.run(loadgen + ["--events", str(events), "--rate", str(rate),
                                         "--no-create", "--truth", truth],
                              stdout=subprocess.PIPE, check=True)
    sent_at = time.monotonic()
    filled = json.loads(last_line(produced.stdout.decode()))
    # Until faultline has read everything (its consumed-message count), at most 60 s.
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline:
        text = scrape(port)
        if sample(text, "faultline_events_consumed_total") >= filled["messages"]:
            break
        time.sleep(0.5)
    cpu.stop()
    consumed = sample(text, "faultline_events_consumed_total")
    # Who used the cores while loadgen sent (faultline's count includes its catching up after).
    busy, stolen = cpu.cores(sent_at - filled["seconds"], sent_at)
    faultline_cores = (sample(text, "process_cpu_seconds_total") - faultline_cpu) / filled["seconds"]
    loadgen_cores = filled["cpu_seconds"] / filled["seconds"]
    if consumed < filled["messages"]:
        log(f"  faultline read {consumed:,.0f} of {filled['messages']:,} within 60 s")
    buckets = buckets_of(text, "faultline_broker_to_alert_seconds")
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    stderr_file.close()
    with open(stderr_path, "rb") as f:
        err = f.read()
    need(proc.returncode == 0, f"faultline (live) exited {proc.returncode}: {last_line(err.decode())}")
    with open(truth) as t, open(alerts) as a:
        s = score.score(t, a)
    p50, p99 = histogram_quantile(0.5, buckets), histogram_quantile(0.99, buckets)
    result = {"fraction_of_max": fraction, "target_rate": rate,
              "produced_rate": filled["events_per_second"], "events": filled["messages"],
              "late_start_seconds": filled["late_start_seconds"],
              "cores": {"machine_busy": busy, "stolen": stolen, "faultline": faultline_cores,
                        "loadgen": loadgen_cores,
                        "broker_and_rest": busy - faultline_cores - loadgen_cores},
              "consumed": consumed, "alerts": buckets[-1][1] if buckets else 0,
              "p50_latency_ms": p50 * 1000 if p50 is not None else None,
              "p99_latency_ms": p99 * 1000 if p99 is not None else None,
              "recall": s["recall"], "precision": s["precision"], "platform": platform_,
              "buckets": buckets[:-1], "summary": last_line(err.decode(errors="replace"))}
    log(f"  produced {filled['events_per_second']:,.0f}/s, consumed {consumed:,.0f} of "
        f"{filled['messages']:,}, p50 {result['p50_latency_ms']} ms, p99 "
        f"{result['p99_latency_ms']} ms, recall {s['recall']:.4f}, precision "
        f"{s['precision']:.4f}; cores busy {busy:.2f} of {os.cpu_count()} (faultline "
        f"{faultline_cores:.2f}, loadgen {loadgen_cores:.2f}, broker and the rest "
        f"{busy - faultline_cores - loadgen_cores:.2f}; stolen {stolen:.2f})")
    return result


def scale_out(args, brokers, topic, platform_, binaries, filled, truth_lines, systems):
    """The fleet detector on the group's pool topic (ingest.pool_topic) in every run. First one
    instance of W workers (kafka.workers: 1, 2, 4; each a member of the group with its own
    consumer, parser and engine), then 2 and 3 instances of one worker each, of one group,
    each `run --exit-at-end`, read the topic together. Events/s over the wall time of the last to
    finish: start-up and the group's joins included, alike for every run (so one worker's figure
    is below `faultline`'s own, which starts at its first message)."""
    for w in (1, 2, 4):
        scale_run(args, brokers, topic, platform_, binaries, filled, truth_lines, systems,
                  instances=1, workers=w)
    for n in (2, 3):
        scale_run(args, brokers, topic, platform_, binaries, filled, truth_lines, systems,
                  instances=n, workers=1)


def scale_run(args, brokers, topic, platform_, binaries, filled, truth_lines, systems,
              instances, workers):
    """One run of `instances` instances of `workers` workers each (scale_out)."""
    n = instances
    group = f"{topic}-x{n}w{workers}-{platform_}"
    pools = group + "-pools"
    subprocess.run([os.path.join(BUILD, "bench/loadgen"), "--events", "1", "--brokers",
                    brokers, "--topic", pools, "--partitions", "6", "--create-only"],
                   stdout=subprocess.DEVNULL, check=True)
    commands, alert_files = [], []
    for i in range(n):
        config = os.path.join(WORK, f"{group}-{i}.yaml")
        alert_files.append(os.path.join(WORK, f"{group}-{i}.alerts.jsonl"))
        faultline_config(config, brokers, topic, group, alert_files[-1],
                         ingest=f"  pool_topic: {pools}\n", workers=workers)
        commands.append([f"{binaries}/faultline", "run", "--config", config, "--exit-at-end",
                         "--quiet", "--progress-every", "0"])
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda c: run_measured(platform_, c), commands))
    for r in results:
        need(r["rc"] == 0, f"{n} members on {platform_}: one failed ({r['rc']}): "
             f"{r['stderr_tail']}")
    summaries = [json.loads(r["stderr_last"]) for r in results]
    notified = []
    for path in alert_files:
        with open(path) as f:
            notified += f.readlines()
    sc = score.score(truth_lines, notified)
    wall = max(r["wall"] for r in results)
    entry = {"system": f"faultline, {n} instance(s) of {workers} worker(s), one group",
             "platform": platform_, "instances": n, "workers": workers,
             "events_per_second": filled["messages"] / wall,
             "mb_per_second": filled["bytes"] / wall / 1e6, "wall_seconds": wall,
             "seconds": wall,
             "cpu_seconds_per_million": sum(r["cpu"] for r in results) /
             filled["messages"] * 1e6,
             "peak_rss_mib": max(r["rss_mib"] for r in results),
             "read": sum(s["events"] for s in summaries),
             "recall": sc["recall"], "precision": sc["precision"],
             "duplicates": sc["duplicates"], "scored_rules": "all",
             "missed": sc["missed"][:5], "unexpected": sc["unexpected"][:5]}
    systems.append(entry)
    log(f"{n} instance(s) of {workers} worker(s) ({platform_}): "
        f"{entry['events_per_second']:,.0f} events/s over "
        f"{wall:.1f} s, {entry['read']:,} messages read in all, recall {sc['recall']:.4f}, "
        f"precision {sc['precision']:.4f}")


def write_results(args, filled, systems, latency, topic, restores):
    def get(system, platform_):
        for s in systems:
            if s["system"] == system and s["platform"] == platform_:
                return s
        return None
    reference = "debian13" if get("faultline", "debian13") else "debian12"
    fl, bare = get("faultline", reference), get("bare librdkafka consumer", reference)
    streams, python = get("Kafka Streams", "debian12"), get("Python (confluent-kafka)", "debian12")
    half = next((l for l in latency if l["fraction_of_max"] == 0.5), None)
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                   "?")
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "command": "python3 bench/e2e.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
                    "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                        / 2**30)},
        "platform": reference,
        "topic": {"name": topic, "events": filled["messages"], "bytes": filled["bytes"],
                  "partitions": args.partitions, "hosts": args.hosts,
                  "incidents": filled["incidents"], "redelivered": filled["duplicates"]},
        "bare_consumer_eps": bare["events_per_second"] if bare else None,
        "faultline_eps": fl["events_per_second"] if fl else None,
        "faultline_vs_bare": fl["events_per_second"] / bare["events_per_second"]
        if fl and bare else None,
        "kafka_streams_eps": streams["events_per_second"] if streams else None,
        "python_eps": python["events_per_second"] if python else None,
        "p50_latency_ms": half["p50_latency_ms"] if half else None,
        "p99_latency_ms": half["p99_latency_ms"] if half else None,
        "faultline_recall": fl["recall"] if fl else None,
        "faultline_precision": fl["precision"] if fl else None,
        "faultline_peak_rss_mib": fl["peak_rss_mib"] if fl else None,
        "systems": systems,
        "latency": latency,
        "restores": restores,
    }
    path = os.path.join(args.results, "e2e.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    log(f"wrote {path}")
    chart(args.results, systems, latency)

    print(f"\n{filled['messages']:,} events ({filled['bytes'] / filled['messages']:.0f} B average,"
          f" {filled['bytes'] / 1e9:.1f} GB), {args.partitions} partitions, {args.hosts} hosts, "
          f"{filled['incidents']} incidents\n")
    print("| system | platform | events/s | MB/s | vs bare, same platform | CPU s per M events "
          "| peak RSS | recall | precision |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in systems:
        b = get("bare librdkafka consumer", s["platform"]) or get("bare librdkafka consumer",
                                                                 "debian12")
        ratio = s["events_per_second"] / b["events_per_second"]
        rp = (f"{s['recall']:.4f} | {s['precision']:.4f}" if "recall" in s else "n/a | n/a")
        if "recall" in s and s["scored_rules"] == PEER_RULES:
            rp = rp.replace(" | ", " (burst, imminent) | ")
        print(f"| {s['system']} | {s['platform'].replace('debian', 'Debian ')} "
              f"| {s['events_per_second'] / 1000:,.0f} k | {s['mb_per_second']:,.0f} "
              f"| {ratio:.2f}x | {s['cpu_seconds_per_million']:.2f} | {s['peak_rss_mib']:.0f} MiB "
              f"| {rp} |")
    if restores:
        print("\n| restart (same group, nothing new) | partitions restored | messages read again "
              "| slowest partition | per million messages | CPU s |")
        print("|---|---|---|---|---|---|")
        for r in restores:
            print(f"| {r['platform'].replace('debian', 'Debian ')} | {r['partitions']} "
                  f"| {r['replayed']:,} | {r['slowest_seconds']:.2f} s "
                  f"| {r['seconds_per_million']:.2f} s | {r['cpu_seconds']:.2f} |")
    if latency:
        print("\n| live rate | produced | consumed | alerts | p50 | p99 | recall | precision "
              "| cores busy (faultline, loadgen, broker and rest; stolen) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for l in latency:
            fmt = lambda v: "n/a" if v is None else f"{v:.0f} ms"
            c = l["cores"]
            print(f"| {l['fraction_of_max']:.0%} of max ({l['target_rate'] / 1000:,.0f} k/s) "
                  f"| {l['produced_rate'] / 1000:,.0f} k/s | {l['consumed']:,.0f} of "
                  f"{l['events']:,} | {l['alerts']:.0f} | {fmt(l['p50_latency_ms'])} "
                  f"| {fmt(l['p99_latency_ms'])} | {l['recall']:.4f} | {l['precision']:.4f} "
                  f"| {c['machine_busy']:.2f} ({c['faultline']:.2f}, {c['loadgen']:.2f}, "
                  f"{c['broker_and_rest']:.2f}; {c['stolen']:.2f}) |")


def chart(results_dir, systems, latency):
    """Two panels: events/s per system (log scale), and the live runs' latency distribution."""
    bars = os.path.join(WORK, "throughput.dat")
    with open(bars, "w") as f:
        for i, s in enumerate(systems):
            label = f"{s['system'].replace('bare librdkafka consumer', 'bare consumer')}\\n" \
                    f"{s['platform'].replace('debian', 'Debian ')}"
            f.write(f'{i} "{label}" {s["events_per_second"]:.0f}\n')
    cdfs = []
    for l in latency:
        path = os.path.join(WORK, f"latency-{int(l['fraction_of_max'] * 100)}.dat")
        total = l["alerts"] or 1
        with open(path, "w") as f:
            f.write("0 0\n")
            for le, count in l["buckets"]:
                f.write(f"{le * 1000:.1f} {count / total:.4f}\n")
        cdfs.append((path, f"asked {l['fraction_of_max']:.0%} of max, produced "
                           f"{l['produced_rate'] / 1000:.0f} k/s"))
    png = os.path.join(results_dir, "e2e.png")
    script = f"""
set terminal png size 1400,560 font ",10"
set output '{png}'
set multiplot layout 1,2
set bmargin 5
set title "Reading the same topic: events per second (log scale)"
set logscale y
set style fill solid 0.8
set boxwidth 0.6
set yrange [10000:*]
set xtics rotate by 0 font ",8"
set grid ytics
plot '{bars}' using 1:3:xtic(2) with boxes notitle lc rgb "#3b6ea5", \\
     '' using 1:3:(sprintf("%.0fk", $3/1000)) with labels offset 0,0.8 notitle
unset logscale y
set yrange [0:1.05]
set xrange [0:1000]
set title "faultline live: broker append to alert (cumulative share of alerts)"
set xlabel "milliseconds"
set xtics auto rotate by 0 font ",10"
set key bottom right
"""
    if cdfs:
        script += "plot " + ", ".join(f"'{p}' using 1:2 with linespoints title '{t}'"
                                      for p, t in cdfs) + "\n"
    script += "unset multiplot\n"
    subprocess.run(["gnuplot"], input=script.encode(), check=True)
    log(f"wrote {png}")


if __name__ == "__main__":
    main()
