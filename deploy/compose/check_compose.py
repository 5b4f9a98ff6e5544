#!/usr/bin/env python3
"""Checks the Compose stack of deploy/compose/ with the tools that run it, and its wiring.

    check_compose.py CHECK COMPOSE_DIR FAULTLINE_BINARY

CHECK is one of:
  schema        compose.yaml, compose.local.yaml and both as podman-compose renders them
                (`podman-compose config`, without and with the override) against the Compose
                Specification's JSON schema (check-jsonschema's vendor.compose-spec, pinned)
  wiring        what no schema sees: every mounted file and build context exists in the repo,
                faultline's command uses only flags `faultline run --help` lists and its mounted
                config passes `faultline check-config` and points at the stack's broker, topics,
                Alertmanager and metrics port; each faultline has its own spool volume; ports
                are published on 127.0.0.1 only; images are pinned (local ones under the
                override, grafana behind a profile there); depends_on names real services
  prometheus    `promtool check config` on prometheus.yml laid out as the container sees it (so
                the rule files it loads are checked too), scraping every faultline service
  alertmanager  `amtool check-config` on the mounted alertmanager.yml
  grafana       the provisioning files parse, provide the `prometheus` data source on the
                prometheus service, and load the dashboard file that is mounted where they look

Every problem is reported, then the exit status is 1; 0 when there is none, 77 (skipped) when
a tool the check needs is not installed. Python packages: deploy/tools/setup.sh.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import resources

import jsonschema
import yaml

FILES = ("compose.yaml", "compose.local.yaml")
SKIP = 77


class Check:
    def __init__(self, name):
        self.name = name
        self.errors = []

    def error(self, message):
        self.errors.append(message)

    def finish(self):
        for message in self.errors:
            print(f"{self.name}: {message}", file=sys.stderr)
        if self.errors:
            print(f"{self.name}: {len(self.errors)} problem(s)", file=sys.stderr)
            return 1
        print(f"{self.name}: ok")
        return 0


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def render(compose_dir, files):
    """The model podman-compose builds from `files` (merged, interpolated with defaults)."""
    args = ["podman-compose", "--dry-run"]
    for name in files:
        args += ["-f", os.path.join(compose_dir, name)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTLINE_")}
    env.setdefault("HOME", "/nonexistent")
    out = subprocess.run(args + ["config"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"podman-compose {' '.join(files)} config failed: {out.stderr.strip()}")
    return yaml.safe_load(out.stdout)


def renders(compose_dir):
    return {"compose.yaml": render(compose_dir, FILES[:1]),
            "compose.yaml + compose.local.yaml": render(compose_dir, FILES)}


def compose_schema():
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    return json.loads(text.read_text(encoding="utf-8"))


def bind_mounts(service):
    """(source, target, read_only) of the service's bind mounts; named volumes are skipped."""
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                yield volume["source"], volume["target"], bool(volume.get("read_only"))
            continue
        parts = volume.split(":")
        if parts[0].startswith((".", "/", "~")):
            yield parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")


def named_volumes(service):
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "volume":
                yield volume["source"], volume["target"]
            continue
        parts = volume.split(":")
        if not parts[0].startswith((".", "/", "~")):
            yield parts[0], parts[1]


def mount_source(compose_dir, target_path, service):
    """The repo file a service sees at `target_path`, or None."""
    for source, target, _ in bind_mounts(service):
        source = os.path.normpath(os.path.join(compose_dir, source))
        if target_path == target:
            return source
        if target_path.startswith(target.rstrip("/") + "/") and os.path.isdir(source):
            return os.path.join(source, os.path.relpath(target_path, target))
    return None


def is_faultline(service):
    image = service.get("image", "")
    return image.rsplit("/", 1)[-1].split(":")[0] == "faultline"


def listeners(env, key):
    result = {}
    for item in str(env.get(key, "")).split(","):
        if "://" in item:
            name, address = item.split("://", 1)
            result[name] = address
    return result


def command_list(service):
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else list(command)


def flag_value(command, flag):
    for i, arg in enumerate(command):
        if arg == flag and i + 1 < len(command):
            return command[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def check_schema(compose_dir, check):
    schema = compose_schema()
    cls = jsonschema.validators.validator_for(schema)  # 2020-12: unevaluatedProperties
    cls.check_schema(schema)
    validator = cls(schema)
    documents = {name: load_yaml(os.path.join(compose_dir, name)) for name in FILES}
    try:
        documents.update({f"rendered {k}": v for k, v in renders(compose_dir).items()})
    except RuntimeError as e:
        check.error(str(e))
    for name, document in documents.items():
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
            where = "/".join(str(p) for p in error.path) or "(top)"
            check.error(f"{name}: {where}: {error.message}")


def check_wiring(compose_dir, faultline, check):
    repo = os.path.normpath(os.path.join(compose_dir, "..", ".."))
    models = renders(compose_dir)
    base = models["compose.yaml"]
    local = models["compose.yaml + compose.local.yaml"]
    help_text = subprocess.run([faultline, "run", "--help"], capture_output=True, text=True).stdout
    run_flags = set(re.findall(r"^\s+(--[a-z][a-z-]*)", help_text, re.M))
    if not run_flags:
        check.error(f"{faultline} run --help lists no flag")

    for model_name, model in models.items():
        services = model.get("services", {})
        declared = set(model.get("volumes", {}) or {})
        volume_users = {}
        for name, service in services.items():
            where = f"{model_name}: {name}"
            for source, target, read_only in bind_mounts(service):
                path = os.path.normpath(os.path.join(compose_dir, source))
                if not os.path.exists(path):
                    check.error(f"{where}: mounts {source} at {target}, which does not exist")
                elif not os.path.realpath(path).startswith(repo + os.sep):
                    check.error(f"{where}: mounts {source} from outside the repository")
                if not read_only:
                    check.error(f"{where}: mounts {source} writable; mount configuration :ro")
            for volume, target in named_volumes(service):
                if volume not in declared:
                    check.error(f"{where}: volume {volume} is not declared under volumes:")
                volume_users.setdefault(volume, []).append(name)
            for dependency in (service.get("depends_on") or {}):
                if dependency not in services:
                    check.error(f"{where}: depends on {dependency}, which is no service")
                elif (service["depends_on"][dependency].get("condition")
                      == "service_completed_successfully"
                      and services[dependency].get("restart", "no") != "no"):
                    check.error(f"{where}: waits for {dependency} to complete, which restarts")
            for port in service.get("ports", []):
                published = port if isinstance(port, str) else port.get("host_ip", "") + ":"
                if not str(published).startswith("127.0.0.1:"):
                    check.error(f"{where}: publishes {port} beyond 127.0.0.1")
            build = service.get("build")
            if build:
                context = os.path.normpath(os.path.join(compose_dir, build.get("context", ".")))
                containerfile = os.path.join(context, build.get("dockerfile", "Containerfile"))
                if not os.path.isfile(containerfile):
                    check.error(f"{where}: builds from {containerfile}, which does not exist")
                else:
                    check_containerfile(containerfile, context, build, where, check)
        for volume, users in volume_users.items():
            if len(users) > 1:
                check.error(f"{model_name}: volume {volume} is shared by {', '.join(users)}")

        faultlines = {n: s for n, s in services.items() if is_faultline(s)}
        if len(faultlines) < 2:
            check.error(f"{model_name}: {len(faultlines)} faultline service(s), expected 2")
        for name, service in faultlines.items():
            check_faultline(compose_dir, faultline, run_flags, services, name, service,
                            f"{model_name}: {name}", check)

    for name, service in base.get("services", {}).items():
        image = service.get("image", "")
        tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
        if not re.search(r"\d", tag) or image.startswith("localhost/"):
            check.error(f"compose.yaml: {name}: image {image!r} is not a pinned release")
    for name, service in local.get("services", {}).items():
        image = service.get("image", "")
        if not image.startswith("localhost/") and not service.get("profiles"):
            check.error(f"compose.local.yaml: {name}: {image} needs a registry but is started "
                        "by default (give it a profile)")
        if image.startswith("localhost/") and service.get("pull_policy") not in ("never", "build"):
            check.error(f"compose.local.yaml: {name}: {image} would be pulled (pull_policy)")


def check_containerfile(containerfile, context, build, where, check):
    """Every COPY source is in the build context, or in a stage or build context it names."""
    contexts = build.get("additional_contexts") or {}
    if isinstance(contexts, list):
        contexts = dict(item.split("=", 1) for item in contexts)
    with open(containerfile, encoding="utf-8") as f:
        lines = f.read().replace("\\\n", " ").splitlines()
    stages = {w[-1] for w in (line.split() for line in lines)
              if len(w) >= 4 and w[0].upper() == "FROM" and w[-2].upper() == "AS"}
    for line in lines:
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        origin = next((w.split("=", 1)[1] for w in words[1:] if w.startswith("--from=")), None)
        sources = [w for w in words[1:] if not w.startswith("--")][:-1]
        if origin is None:
            for source in sources:
                if not os.path.exists(os.path.join(context, source)):
                    check.error(f"{where}: {containerfile}: COPY {source}: not in {context}")
        elif origin not in stages and origin not in contexts:
            check.error(f"{where}: {containerfile}: COPY --from={origin}: neither a stage nor "
                        f"a build context ({', '.join(sorted(contexts)) or 'none'})")


def check_faultline(compose_dir, faultline, run_flags, services, name, service, where, check):
    command = command_list(service)
    if not command or command[0] != "run":
        check.error(f"{where}: command {command} does not start with `run`")
    for arg in command[1:]:
        if arg.startswith("--") and arg.split("=", 1)[0] not in run_flags:
            check.error(f"{where}: `faultline run` has no flag {arg} (faultline run --help)")
    config_path = flag_value(command, "--config")
    if config_path is None:
        check.error(f"{where}: command has no --config")
        return
    config_file = mount_source(compose_dir, config_path, service)
    if config_file is None or not os.path.isfile(config_file):
        check.error(f"{where}: --config {config_path} is not a file mounted from the repository")
        return
    result = subprocess.run([faultline, "check-config", config_file], capture_output=True, text=True)
    if result.returncode != 0:
        check.error(f"{where}: faultline check-config {config_file}: {result.stderr.strip()}")
        return
    config = load_yaml(config_file)

    kafka = config.get("kafka", {})
    brokers = flag_value(command, "--brokers") or kafka.get("brokers", "")
    broker_service = services.get("kafka", {})
    internal = set()
    env = broker_service.get("environment", {}) or {}
    for address in listeners(env, "KAFKA_ADVERTISED_LISTENERS").values():
        internal.add(address)
    for broker in str(brokers).split(","):
        if broker.strip() not in internal:
            check.error(f"{where}: kafka.brokers {broker} is not an advertised listener of kafka "
                        f"({', '.join(sorted(internal))})")
    init = services.get("kafka-init", {})
    created = {spec.split(":", 1)[0] for spec in command_list(init)}
    wanted = list(kafka.get("topics", []))
    dead_letter = config.get("ingest", {}).get("dead_letter_topic")
    if dead_letter:
        wanted.append(dead_letter)
    wanted += [s["topic"] for s in config.get("sinks", []) if s.get("type") == "kafka"]
    for topic in wanted:
        if topic not in created:
            check.error(f"{where}: topic {topic} is not created by kafka-init ({sorted(created)})")
    if "kafka-init" not in (service.get("depends_on") or {}):
        check.error(f"{where}: does not wait for kafka-init")

    for sink in config.get("sinks", []):
        if sink.get("type") != "alertmanager":
            continue
        urls = sink.get("url")
        for url in urls if isinstance(urls, list) else [urls]:
            match = re.match(r"^https?://([^:/]+):(\d+)", url or "")
            if not match or match.group(1) not in services:
                check.error(f"{where}: alertmanager sink {url} names no service of the stack")
                continue
            listen = flag_value(command_list(services[match.group(1)]), "--web.listen-address")
            if listen is None or listen.rsplit(":", 1)[-1] != match.group(2):
                check.error(f"{where}: alertmanager sink {url}: {match.group(1)} listens on "
                            f"{listen}")

    listen = flag_value(command, "--metrics-listen") or config.get("metrics", {}).get("listen", "")
    port = listen.rsplit(":", 1)[-1] if listen else ""
    if not listen or listen.rsplit(":", 1)[0] not in ("0.0.0.0", "", "[::]"):
        check.error(f"{where}: metrics.listen {listen!r} cannot be scraped from another container")
    published = [str(p).rsplit(":", 1)[-1] for p in service.get("ports", [])]
    if port not in published:
        check.error(f"{where}: metrics port {port} is not published ({published})")
    spool = config.get("delivery", {}).get("spool_dir", "")
    if not spool or not any(spool == target or spool.startswith(target.rstrip("/") + "/")
                            for _, target in named_volumes(service)):
        check.error(f"{where}: delivery.spool_dir {spool!r} is not on a volume of its own")
    grace = str(service.get("stop_grace_period", "10s"))
    if not re.match(r"^\d+s$", grace) or int(grace[:-1]) <= 10:
        check.error(f"{where}: stop_grace_period {grace} leaves no time past "
                    "delivery.shutdown_timeout (10s)")


def stage(compose_dir, service, container_dir, into):
    """Copies what `service` has mounted under `container_dir` to the same places under `into`."""
    for source, target, _ in bind_mounts(service):
        if target == container_dir or target.startswith(container_dir.rstrip("/") + "/"):
            source = os.path.normpath(os.path.join(compose_dir, source))
            destination = os.path.join(into, os.path.relpath(target, container_dir))
            if os.path.isdir(source):
                shutil.copytree(source, destination, dirs_exist_ok=True)
            elif os.path.isfile(source):
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.copyfile(source, destination)


def check_prometheus(compose_dir, check):
    if shutil.which("promtool") is None:
        print("promtool is not installed (Debian: prometheus): skipped", file=sys.stderr)
        return SKIP
    for model_name, model in renders(compose_dir).items():
        services = model["services"]
        prometheus = services["prometheus"]
        config_path = flag_value(command_list(prometheus), "--config.file")
        if not config_path:
            check.error(f"{model_name}: prometheus has no --config.file")
            continue
        config_dir = os.path.dirname(config_path)
        with tempfile.TemporaryDirectory() as root:
            stage(compose_dir, prometheus, config_dir, root)
            staged = os.path.join(root, os.path.basename(config_path))
            if not os.path.isfile(staged):
                check.error(f"{model_name}: nothing is mounted at {config_path}")
                continue
            result = subprocess.run(["promtool", "check", "config", staged],
                                    capture_output=True, text=True)
            output = (result.stdout + result.stderr).replace(root, config_dir)
            if result.returncode != 0:
                check.error(f"{model_name}: promtool check config {config_path}:\n{output}")
            found = [int(n) for n in re.findall(r"SUCCESS: (\d+) rules found", output)]
            if not found or min(found) == 0:
                check.error(f"{model_name}: promtool found no rules in the rule files "
                            f"prometheus.yml loads:\n{output}")
            config = load_yaml(staged)
        faultlines = {n for n, s in services.items() if is_faultline(s)}
        scraped = set()
        for job in config.get("scrape_configs", []):
            if job.get("job_name") != "faultline":
                continue
            for static in job.get("static_configs", []):
                scraped.update(static.get("targets", []))
        expected = {f"{n}:9464" for n in faultlines}
        if scraped != expected:
            check.error(f"{model_name}: job faultline scrapes {sorted(scraped)}, "
                        f"the faultline services are {sorted(expected)}")
        alerting = [t for am in config.get("alerting", {}).get("alertmanagers", [])
                    for s in am.get("static_configs", []) for t in s.get("targets", [])]
        for target in alerting or ["(none)"]:
            if target.split(":")[0] not in services:
                check.error(f"{model_name}: Prometheus sends alerts to {target}, no service")
    return None


def check_alertmanager(compose_dir, check):
    if shutil.which("amtool") is None:
        print("amtool is not installed (Debian: prometheus-alertmanager): skipped", file=sys.stderr)
        return SKIP
    for model_name, model in renders(compose_dir).items():
        alertmanager = model["services"]["alertmanager"]
        config_path = flag_value(command_list(alertmanager), "--config.file")
        source = mount_source(compose_dir, config_path or "", alertmanager)
        if source is None or not os.path.isfile(source):
            check.error(f"{model_name}: nothing is mounted at --config.file {config_path}")
            continue
        result = subprocess.run(["amtool", "check-config", source], capture_output=True, text=True)
        if result.returncode != 0:
            check.error(f"{model_name}: amtool check-config {source}:\n"
                        f"{result.stdout}{result.stderr}")
    return None


def check_grafana(compose_dir, check):
    model = renders(compose_dir)["compose.yaml"]
    services = model["services"]
    grafana = services["grafana"]
    with tempfile.TemporaryDirectory() as root:
        stage(compose_dir, grafana, "/etc/grafana", root)
        provisioning = os.path.join(root, "provisioning")
        datasources, providers = [], []
        for kind, found in (("datasources", datasources), ("dashboards", providers)):
            folder = os.path.join(provisioning, kind)
            files = sorted(f for f in os.listdir(folder) if f.endswith((".yaml", ".yml"))) \
                if os.path.isdir(folder) else []
            if not files:
                check.error(f"no provisioning file in /etc/grafana/provisioning/{kind}")
            for name in files:
                try:
                    document = load_yaml(os.path.join(folder, name))
                except yaml.YAMLError as e:
                    check.error(f"provisioning/{kind}/{name}: {e}")
                    continue
                if not isinstance(document, dict) or document.get("apiVersion") != 1:
                    check.error(f"provisioning/{kind}/{name}: apiVersion is not 1")
                    continue
                found += document.get("datasources" if kind == "datasources" else "providers",
                                      [])
        prometheus = [d for d in datasources if d.get("uid") == "prometheus"]
        if len(prometheus) != 1 or prometheus[0].get("type") != "prometheus":
            check.error("no data source of type prometheus with uid `prometheus`")
        for source in datasources:
            match = re.match(r"^https?://([^:/]+):(\d+)", source.get("url", ""))
            if not match or match.group(1) not in services:
                check.error(f"data source {source.get('name')}: {source.get('url')} names no "
                            "service of the stack")
        dashboards = []
        for provider in providers:
            path = provider.get("options", {}).get("path", "")
            if provider.get("type") != "file" or not path.startswith("/etc/grafana/"):
                check.error(f"dashboard provider {provider.get('name')}: reads {path!r}, "
                            "where nothing is mounted")
                continue
            local = os.path.join(root, os.path.relpath(path, "/etc/grafana"))
            if os.path.isdir(local):
                dashboards += [os.path.join(local, f) for f in os.listdir(local)
                               if f.endswith(".json")]
        if not dashboards:
            check.error("the dashboard providers find no dashboard file in what is mounted")
        for path in dashboards:
            try:
                with open(path, encoding="utf-8") as f:
                    dashboard = json.load(f)
            except (OSError, json.JSONDecodeError) as e:
                check.error(f"dashboard {os.path.basename(path)}: {e}")
                continue
            variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
            if variables.get("datasource", {}).get("type") != "datasource":
                check.error(f"dashboard {os.path.basename(path)}: no `datasource` variable")
            if not dashboard.get("uid"):
                check.error(f"dashboard {os.path.basename(path)}: no uid")
        home = (grafana.get("environment") or {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
        if home and not os.path.isfile(os.path.join(root, os.path.relpath(home, "/etc/grafana"))):
            check.error(f"GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH {home} is not mounted")
    return None


def main(argv):
    checks = {"schema": lambda d, b, c: check_schema(d, c),
              "wiring": check_wiring,
              "prometheus": lambda d, b, c: check_prometheus(d, c),
              "alertmanager": lambda d, b, c: check_alertmanager(d, c),
              "grafana": lambda d, b, c: check_grafana(d, c)}
    if len(argv) != 4 or argv[1] not in checks:
        print(__doc__, file=sys.stderr)
        return 2
    _, name, compose_dir, faultline = argv
    check = Check(f"compose:{name}")
    try:
        status = checks[name](os.path.abspath(compose_dir), os.path.abspath(faultline), check)
    except (RuntimeError, OSError, KeyError, yaml.YAMLError) as e:
        check.error(f"{type(e).__name__}: {e}")
        status = None
    if status == SKIP and not check.errors:
        return SKIP
    return check.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
