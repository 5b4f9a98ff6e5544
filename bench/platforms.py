#!/usr/bin/env python3
"""faultline on Debian 12 (the host: librdkafka 2.0.2) and Debian 13 (the image's test stage:
librdkafka 2.8.0), each against a bare librdkafka consumer on the same platform, all reading the
same topic of the same local broker in one run, in turn, each with its defaults.

  python3 bench/platforms.py [--events N] [--partitions P] [--rounds R]
      (defaults: 2,000,000 synthetic Winlogbeat 8 events of ~450 B, 4 partitions, 2 rounds)

Needs the host's release build (cmake --preset release && cmake --build --preset release) and
the image's test stage (deploy/container/build.sh --target test). Starts (or reuses) the broker of
build-release/kafka-bench. Each system also reads an empty topic of as many partitions (joining
the group, reaching the ends, leaving): that start-up is taken off its time, so the rates compare
reading, not joining. Prints a Markdown table: events/s, the ratio to the bare consumer of the
same platform and round, CPU seconds per million events, peak RSS.

  python3 bench/platforms.py --measure -- COMMAND...
      (internal: runs COMMAND and prints its wall time, CPU time and peak RSS as JSON)"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-release")
IMAGE = "localhost/faultline-test:latest"
# faultline on librdkafka 2.8.0 configured as for 2.0.2: its 64 MiB queue, and 2.8.0's own
# defaults for what 2.0.2 does not have (fetch.queue.backoff.ms 1000, queued.min.messages 100000).
OLD_SETTINGS = "faultline run, 2.0.2's settings"
OLD_KAFKA = ("  queued_max_messages_kbytes: 65536\n"
             "  properties: {fetch.queue.backoff.ms: '1000', queued.min.messages: '100000'}\n")
# The bare consumer with faultline's fetch settings on librdkafka >= 2.3 (FetchDefaults): there,
# librdkafka's own defaults stall even a consumer that does nothing.
BARE_TUNED = "bare librdkafka consumer, faultline's fetch settings"
TUNED = "fetch.queue.backoff.ms=10,queued.min.messages=20000,queued.max.messages.kbytes=16384"
PODMAN = ["podman", "--runtime", "runc", "run", "--rm", "--network=host",
          "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def measure(command):
    start = time.monotonic()
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    last = lambda text: (text.decode(errors="replace").strip().splitlines() or [""])[-1]
    # The bare consumer's count is the last line on stdout; faultline's summary on stderr.
    return {"rc": proc.returncode, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mib": usage.ru_maxrss / 1024, "last": last(proc.stderr),
            "stdout": last(proc.stdout)}


def run_on(platform, command, config_dir):
    """Runs command on the platform through --measure, so both are timed the same way."""
    if platform == "Debian 12":
        wrapped = [sys.executable, os.path.abspath(__file__), "--measure", "--"] + command
    else:
        wrapped = PODMAN + ["-v", f"{ROOT}/bench:/bench:ro", "-v", f"{config_dir}:{config_dir}:ro",
                            IMAGE, "python3", "/bench/platforms.py", "--measure", "--"] + command
    out = subprocess.run(wrapped, stdout=subprocess.PIPE, check=True).stdout.decode()
    return json.loads(out.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--measure" and sys.argv[2] == "--":
        print(json.dumps(measure(sys.argv[3:])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    for tool in ("faultline", "bench/synth_events", "bench/fill_topic", "bench/bare_consumer"):
        if not os.access(os.path.join(BUILD, tool), os.X_OK):
            sys.exit(f"platforms.py: {BUILD}/{tool} is missing: cmake --build --preset release")
    if subprocess.run(["podman", "image", "exists", IMAGE]).returncode != 0:
        sys.exit(f"platforms.py: {IMAGE} is missing: deploy/container/build.sh --target test")
    brokers = subprocess.run([os.path.join(ROOT, "deploy/local/kafka.sh"), "start",
                              os.path.join(BUILD, "kafka-bench")], stdout=subprocess.PIPE,
                             check=True).stdout.decode().strip().splitlines()[-1]
    topic = f"platforms-{int(time.time())}"
    gen = subprocess.Popen([os.path.join(BUILD, "bench/synth_events"), str(args.events),
                            "100000", "10", "300"], stdout=subprocess.PIPE)
    filled = subprocess.run([os.path.join(BUILD, "bench/fill_topic"), brokers, topic,
                             str(args.partitions)], stdin=gen.stdout, stdout=subprocess.PIPE,
                            check=True)
    gen.stdout.close()
    if gen.wait() != 0:
        sys.exit("platforms.py: synth_events failed")
    fill = json.loads(filled.stdout.decode())
    if fill["messages"] != args.events:
        sys.exit(f"platforms.py: the topic holds {fill['messages']} of {args.events} events")
    print(f"topic {topic}: {fill['messages']} events, {fill['bytes'] / fill['messages']:.0f} B "
          f"average, {args.partitions} partitions, filled in {fill['seconds']:.1f} s",
          file=sys.stderr)

    empty = topic + "-empty"
    subprocess.run([os.path.join(BUILD, "bench/fill_topic"), brokers, empty, str(args.partitions)],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    config_dir = os.path.join(BUILD, "bench-platforms")
    os.makedirs(config_dir, exist_ok=True)
    results = {}
    for round_ in range(args.rounds):
        for platform in ("Debian 12", "Debian 13"):
            binaries = BUILD if platform == "Debian 12" else "/src/build-release"
            systems = ["bare librdkafka consumer", "faultline run"]
            if platform == "Debian 13":  # what the version check buys there
                systems[1:1] = [BARE_TUNED]
                systems.append(OLD_SETTINGS)
            for index, system in enumerate(systems):
                def command(read, group):
                    if system.startswith("bare"):
                        return ([f"{binaries}/bench/bare_consumer", brokers, read, group] +
                                ([TUNED] if system == BARE_TUNED else []))
                    config = os.path.join(config_dir, group + ".yaml")
                    with open(config, "w") as f:
                        f.write(f"kafka:\n  brokers: {brokers}\n  topics: [{read}]\n"
                                f"  group_id: {group}\n"
                                + (OLD_KAFKA if system == OLD_SETTINGS else "") +
                                # synthetic events of last March, published now
                                "detect:\n  max_event_age: 0s\n"
                                "sinks:\n  - type: stdout\n    format: json\n")
                    return [f"{binaries}/faultline", "run", "--config", config, "--exit-at-end",
                            "--quiet", "--progress-every", "0"]
                group = f"{topic}-{round_}-{platform[-2:]}-{index}"
                start = run_on(platform, command(empty, group + "-empty"), config_dir)
                r = run_on(platform, command(topic, group), config_dir)
                for run in (start, r):
                    if run["rc"] != 0:
                        sys.exit(f"platforms.py: {platform} {system} failed ({run['rc']}): "
                                 f"{run['last']}")
                consumed = (json.loads(r["last"]).get("events") if system.startswith("faultline")
                            else json.loads(r["stdout"]).get("messages"))
                if consumed != fill["messages"]:
                    sys.exit(f"platforms.py: {platform} {system} read {consumed} of "
                             f"{fill['messages']}")
                r["wall"] -= start["wall"]
                r["cpu"] -= start["cpu"]
                r["rate"] = fill["messages"] / r["wall"]
                results.setdefault((platform, system), []).append(r)
                print(f"round {round_ + 1} {platform} {system}: {r['rate']:,.0f} events/s, "
                      f"{r['rss_mib']:.0f} MiB", file=sys.stderr)

    print(f"\n{fill['messages']:,} events ({fill['bytes'] / fill['messages']:.0f} B), "
          f"{args.partitions} partitions, {args.rounds} rounds (each: min-max over rounds; "
          "times less each system's start-up on an empty topic)\n")
    print("| platform | system | events/s | vs bare, same platform | CPU s per M events | peak RSS |")
    print("|---|---|---|---|---|---|")
    for (platform, system), rs in results.items():
        bare = [max(b, key=lambda x: x["rate"]) for b in zip(*[v for (p, sy), v in results.items()
                                      if p == platform and sy.startswith("bare")])]
        ratios = [r["rate"] / b["rate"] for r, b in zip(rs, bare)]
        rates = [r["rate"] for r in rs]
        cpu = [r["cpu"] / fill["messages"] * 1e6 for r in rs]
        rss = [r["rss_mib"] for r in rs]
        span = lambda xs, fmt: (fmt.format(min(xs)) if len(xs) == 1 or
                                fmt.format(min(xs)) == fmt.format(max(xs))
                                else fmt.format(min(xs)) + "-" + fmt.format(max(xs)))
        print(f"| {platform} | {system} | {span([x / 1000 for x in rates], '{:,.0f}')} k "
              f"| {span(ratios, '{:.2f}')}x | {span(cpu, '{:.2f}')} | {span(rss, '{:.0f}')} MiB |")


if __name__ == "__main__":
    main()
