#!/usr/bin/env python3
"""Checks deploy/systemd/faultline.service (run through deploy/tools/setup.sh exec).

  check_unit.py verify DIR FAULTLINE_BINARY
      `systemd-analyze verify` on a copy of the unit whose ExecStart runs FAULTLINE_BINARY (verify
      checks that the binary exists), with no warning allowed; then what the unit must agree on
      with the faultline.yaml beside it: the stop timeout against faultline's stop, the
      configuration credential, the spool in the StateDirectory, the secrets of *_env in the
      example EnvironmentFile, restart and the sandbox directives.
  check_unit.py security DIR FAULTLINE_BINARY
      `systemd-analyze security --offline=yes` on the unit: the exposure level is at most
      MAX_EXPOSURE and is the one README.md records.

Prints one line per check and exits 1 if any failed.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import Checks  # noqa: E402
from faultline_config import FaultlineConfig  # noqa: E402

UNIT = "faultline.service"
INSTALLED_BINARY = "/usr/bin/faultline"
INSTALLED_CONFIG = "/etc/faultline/faultline.yaml"
MAX_EXPOSURE = 2.0  # systemd-analyze: below 2.0 is "OK", the best of its four bands


_TIMESPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(us|ms|seconds|second|sec|s|minutes|minute|min|m|"
                       r"hours|hour|hr|h)?\s*")
_TIMESPAN_SECONDS = {"us": 1e-6, "ms": 1e-3, "seconds": 1, "second": 1, "sec": 1, "s": 1, None: 1,
                     "minutes": 60, "minute": 60, "min": 60, "m": 60,
                     "hours": 3600, "hour": 3600, "hr": 3600, "h": 3600}


def timespan_seconds(text):
    """A systemd time span (systemd.time(7)): 60, 90s, 1min 30s, 5m."""
    pos, total = 0, 0.0
    for match in _TIMESPAN.finditer(text.strip()):
        if match.start() != pos or not match.group(0):
            break
        total += float(match.group(1)) * _TIMESPAN_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text.strip()):
        raise ValueError(f"not a systemd time span: {text!r}")
    return total


def parse_unit(path):
    """section -> key -> [values] (keys repeat in units; an empty assignment resets the list)."""
    sections, current = {}, None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], {})
                continue
            key, _, value = line.partition("=")
            values = current.setdefault(key.strip(), [])
            if value.strip():
                values.append(value.strip())
            else:
                values.clear()
    return sections


def copy_with_binary(directory, binary, tmp):
    with open(os.path.join(directory, UNIT), encoding="utf-8") as f:
        text = f.read()
    if INSTALLED_BINARY not in text:
        raise SystemExit(f"{UNIT} does not run {INSTALLED_BINARY}")
    path = os.path.join(tmp, UNIT)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(INSTALLED_BINARY, os.path.abspath(binary)))
    return path


def systemd_analyze(*args):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        print("skip systemd-analyze is missing (Debian package systemd), e.g. in a container")
        sys.exit(77)  # CTest's SKIP_RETURN_CODE
    return subprocess.run([tool, *args], capture_output=True, text=True)


def check_verify(directory, binary):
    c = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        unit = copy_with_binary(directory, binary, tmp)
        run = systemd_analyze("verify", unit)
        output = (run.stdout + run.stderr).strip()
        c.expect(run.returncode == 0 and not output,
                 "systemd-analyze verify: no error, no warning" + (f"\n{output}" if output else ""))

    service = parse_unit(os.path.join(directory, UNIT)).get("Service", {})

    def one(key):
        values = service.get(key, [])
        return values[-1] if values else None

    config = FaultlineConfig(os.path.join(directory, "faultline.yaml"))

    # The configuration arrives as a credential named like the file --config reads from %d.
    exec_start = (one("ExecStart") or "").split()
    config_arg = exec_start[exec_start.index("--config") + 1] if "--config" in exec_start else ""
    c.expect(exec_start[:2] == [INSTALLED_BINARY, "run"], f"ExecStart runs {INSTALLED_BINARY} run")
    credentials = dict(v.split(":", 1) for v in service.get("LoadCredential", []))
    name = config_arg[len("%d/"):] if config_arg.startswith("%d/") else None
    c.expect(name is not None and credentials.get(name) == INSTALLED_CONFIG,
             f"--config {config_arg} is the credential of {INSTALLED_CONFIG}")

    # Stopping: systemd waits longer than faultline can take with this configuration.
    stop = timespan_seconds(one("TimeoutStopSec") or "90s")
    budget = config.stop_budget()
    c.expect(stop > budget, f"TimeoutStopSec {stop:g}s > faultline's stop ({budget:g}s: "
                            f"shutdown_timeout {config.shutdown_timeout:g}s, a delivery in flight, the commit)")
    c.expect(one("KillSignal") in (None, "SIGTERM"), "stopped with SIGTERM (faultline drains on it)")

    # The spool lives in the StateDirectory, which systemd keeps and hands to the dynamic user.
    states = [f"/var/lib/{d}" for v in service.get("StateDirectory", []) for d in v.split()]
    spool = config.spool_dir
    c.expect(any(spool.startswith(s + "/") or spool == s for s in states),
             f"delivery.spool_dir {spool} is in a StateDirectory {states}")
    c.expect(one("DynamicUser") == "yes" or one("User") not in (None, "root"),
             "runs as an unprivileged user (DynamicUser or User)")

    # Secrets: every *_env of faultline.yaml has a line in the example EnvironmentFile.
    c.expect(any(v.lstrip("-") == "/etc/faultline/faultline.env" for v in service.get("EnvironmentFile", [])),
             "EnvironmentFile /etc/faultline/faultline.env")
    with open(os.path.join(directory, "faultline.env.example"), encoding="utf-8") as f:
        example = dict(line.strip().split("=", 1) for line in f
                       if "=" in line and not line.lstrip().startswith("#"))
    for var in config.secret_env_vars():
        c.expect(var in example and "REPLACE-ME" in example[var],
                 f"{var} (a *_env of faultline.yaml) is in faultline.env.example, as a placeholder")

    port = config.metrics_port
    c.expect(port is None or port >= 1024, f"metrics port {port} needs no capability")

    # Restart and the limits.
    c.expect(one("Restart") == "on-failure", "Restart=on-failure")
    c.expect("2" in " ".join(service.get("RestartPreventExitStatus", [])).split(),
             "no restart on exit status 2 (a bad configuration)")
    memory_max = one("MemoryMax")
    c.expect(memory_max is not None and re.fullmatch(r"\d+[KMG]", memory_max) is not None,
             f"MemoryMax is set ({memory_max})")

    # The sandbox the unit promises (README.md lists why each is safe for faultline).
    for key, want in (("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                      ("NoNewPrivileges", "yes"), ("PrivateDevices", "yes"),
                      ("MemoryDenyWriteExecute", "yes"), ("SystemCallArchitectures", "native")):
        c.expect(one(key) == want, f"{key}={want}")
    c.expect("@system-service" in service.get("SystemCallFilter", []),
             "SystemCallFilter=@system-service")
    families = set(" ".join(service.get("RestrictAddressFamilies", [])).split())
    c.expect(families and families <= {"AF_INET", "AF_INET6", "AF_UNIX"},
             f"RestrictAddressFamilies to IP and local sockets ({sorted(families)})")
    c.expect(service.get("CapabilityBoundingSet", ["x"]) == [], "CapabilityBoundingSet= (none)")
    return c.failures


def check_security(directory, binary):
    c = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        unit = copy_with_binary(directory, binary, tmp)
        run = systemd_analyze("security", "--offline=yes", "--no-pager", unit)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", run.stdout)
    if not c.expect(match is not None, "systemd-analyze security --offline=yes gives an exposure level"):
        print(run.stdout + run.stderr)
        return c.failures
    level, verdict = float(match.group(1)), match.group(2)
    c.expect(level <= MAX_EXPOSURE, f"exposure level {level} {verdict} <= {MAX_EXPOSURE}")
    for line in run.stdout.splitlines():
        if line.startswith("✗"):
            print("     " + re.sub(r"\s{2,}", "  ", line))
    with open(os.path.join(directory, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    recorded = re.search(r"exposure level (\d+\.\d+)", readme)
    c.expect(recorded is not None and float(recorded.group(1)) == level,
             f"README.md records exposure level {level} "
             f"(it says {recorded.group(1) if recorded else 'nothing'})")
    return c.failures


def main(argv):
    if len(argv) != 4 or argv[1] not in ("verify", "security"):
        print(__doc__, file=sys.stderr)
        return 2
    check = check_verify if argv[1] == "verify" else check_security
    failures = check(argv[2], argv[3])
    print(f"{failures} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
