#!/usr/bin/env python3
"""faultline against a Kafka broker that wants TLS and authentication (issue 14, security 3).

The test makes its own certificate authority, a broker certificate (127.0.0.1), a client
certificate whose key is encrypted with a key password, a rogue client certificate no one
trusts, and a SCRAM-SHA-512 credential; it starts a broker of its own (deploy/local/kafka.sh
start DIR --secure: an SSL listener that requires a client certificate, and a SASL_SSL listener
with SCRAM-SHA-512, on 127.0.0.1), publishes the bundled incident (app/demo: Exchange's
MSExchangeOWAAppPool disabled after rapid-fail) over SASL_SSL, and runs `faultline run
--exit-at-end`:

  (a) over SSL with the client certificate (mTLS): the key's body from an environment variable
      (ssl.key.pem_env), its password from a file (ssl.key.password_file), librdkafka's debug
      log on;
  (b) over SASL_SSL with SCRAM-SHA-512, the password from an environment variable
      (sasl.password_env);
  each must raise the incident's alerts;
  (c) with a wrong password, with a client certificate of another authority, and with a CA
      that did not sign the broker's certificate: each must exit non-zero, saying that
      authentication failed, within FAIL_SECONDS (and with a wrong key password: non-zero,
      saying so);
  (d) the SCRAM run also delivers to sinks whose credentials are secrets: a webhook whose URL
      path is its token (url_env) and that signs with an HMAC secret (secret_env), PagerDuty's
      routing key (routing_key_file), a Slack URL with its token (url_file), all to a local
      HTTP receiver that must get them; a run with the same webhook pointed at a closed port
      logs its delivery failures and exits 1 (alerts not delivered);
  (e) every line any of them wrote (stdout and stderr, check-config's too) is searched for
      every secret (the passwords, the key password, each line of the private keys' bodies,
      the sinks' tokens, HMAC secret and routing key): one found fails the test.

Secrets reach faultline only through files and its environment, never through its command
line or its YAML. Everything listens on 127.0.0.1; the broker is stopped at the end whatever
happens.

  kafka_security_test.py FAULTLINE WORK_DIR
"""
import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KAFKA_SH = os.path.join(ROOT, "deploy", "local", "kafka.sh")
INCIDENT = os.path.join(ROOT, "app", "demo", "exchange_owa_incident.jsonl")
LIBS = os.path.join(os.environ.get("FAULTLINE_CACHE", os.path.expanduser("~/.cache/faultline")),
                    "kafka-3.9.1", "libs")
RUN_SECONDS = 90   # a run that should succeed
FAIL_SECONDS = 30  # a run that should be refused: it must say so within this
# Every step ends by this many seconds after the start, so the broker is stopped (30 s at
# most) well within CTest's TIMEOUT (600), which would kill the test and leave it running.
DEADLINE = time.monotonic() + 480
USER = "faultline"

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAILED:", message, file=sys.stderr)


def openssl(*args, env=None):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, env=env)


def private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def make_pki(work, broker_secure):
    """CA, broker and client certificates; returns the secrets and the client files."""
    pki = os.path.join(work, "pki")
    os.makedirs(pki, mode=0o700)
    p = lambda name: os.path.join(pki, name)  # noqa: E731
    key_password = secrets.token_urlsafe(18)
    env = dict(os.environ, FAULTLINE_TEST_KEY_PASSWORD=key_password)
    days = "2"
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out",
            p("ca.pem"), "-days", days, "-subj", "/CN=faultline test CA", *ca_ext)
    with open(p("broker.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    with open(p("client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("broker.key"), "-out",
            p("broker.csr"), "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", p("broker.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-days", days, "-out", p("broker.crt"), "-extfile",
            p("broker.ext"))
    # The client's key is encrypted: ssl.key.password opens it (the password from the
    # environment here, not from openssl's command line).
    openssl("req", "-newkey", "rsa:2048", "-keyout", p("client.key"), "-passout",
            "env:FAULTLINE_TEST_KEY_PASSWORD", "-out", p("client.csr"), "-subj",
            f"/CN={USER}", env=env)
    openssl("x509", "-req", "-in", p("client.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-days", days, "-out", p("client.crt"), "-extfile",
            p("client.ext"))
    # Another authority, which the broker does not trust, and its client.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("rogue-ca.key"),
            "-out", p("rogue-ca.pem"), "-days", days, "-subj", "/CN=rogue CA", *ca_ext)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("rogue.key"), "-out",
            p("rogue.csr"), "-subj", f"/CN={USER}")
    openssl("x509", "-req", "-in", p("rogue.csr"), "-CA", p("rogue-ca.pem"), "-CAkey",
            p("rogue-ca.key"), "-CAcreateserial", "-days", days, "-out", p("rogue.crt"),
            "-extfile", p("client.ext"))

    os.makedirs(broker_secure, mode=0o700)
    shutil.copy(p("ca.pem"), os.path.join(broker_secure, "ca.pem"))
    with open(p("broker.key")) as k, open(p("broker.crt")) as c:
        private(os.path.join(broker_secure, "broker.pem"), k.read() + c.read())
    # SCRAM-SHA-512 credential, salted here: the password is on no command line, the broker's
    # format step included.
    password = secrets.token_urlsafe(18)
    salt, iterations = os.urandom(16), 8192
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    private(os.path.join(broker_secure, "scram"),
            f'SCRAM-SHA-512=[name={USER},iterations={iterations},'
            f'salt="{base64.b64encode(salt).decode()}",'
            f'saltedpassword="{base64.b64encode(salted).decode()}"]\n')
    private(p("key-password"), key_password + "\n")

    def body(path):
        with open(path) as f:
            return [ln.strip() for ln in f if ln.strip() and not ln.startswith("-----")]

    secret_values = {"sasl password": password, "key password": key_password}
    for name in ("client.key", "rogue.key", "broker.key"):
        for i, line in enumerate(body(p(name))):
            secret_values[f"{name} body line {i + 1}"] = line
    return pki, password, secret_values


def kafka(*args):
    """deploy/local/kafka.sh ARGS on this test's own broker (its own timeouts bound it: 90 s to
    start once the jars are cached, 30 s to stop)."""
    return subprocess.run([KAFKA_SH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=180)


def shifted_incident():
    """The bundled incident, moved to end a minute ago: run judges events by the broker's clock
    (max_event_age)."""
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
    with open(INCIDENT) as f:
        text = f.read()
    times = [datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
             for s in stamp.findall(text)]
    delta = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1) - \
        max(times)

    def move(m):
        t = datetime.datetime.fromisoformat(m.group(0).replace("Z", "+00:00")) + delta
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return stamp.sub(move, text)


def produce(work, bootstrap, topic, ca, password):
    """The incident published with Kafka's console producer over SASL_SSL; its output."""
    config = os.path.join(work, "producer.properties")
    private(config, "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                    "ssl.truststore.type=PEM\n"
                    f"ssl.truststore.location={ca}\n"
                    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                    f'required username="{USER}" password="{password}";\n'
                    "acks=all\n")
    log4j = os.path.join(work, "kafka", "log4j.properties")
    events = shifted_incident()
    started = time.monotonic()
    out = subprocess.run(
        ["java", "-Xmx256m", f"-Dlog4j.configuration=file:{log4j}", "-cp",
         os.path.join(LIBS, "*"), "kafka.tools.ConsoleProducer", "--bootstrap-server",
         bootstrap, "--topic", topic, "--producer.config", config],
        input=events, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=max(1.0, min(120.0, DEADLINE - time.monotonic())))
    check(out.returncode == 0, f"the console producer exited {out.returncode}: "
                               f"{out.stdout[-2000:]}")
    return out.stdout, len(events.splitlines()), time.monotonic() - started


class Receiver:
    """An HTTP server on 127.0.0.1 that answers every POST 202 and keeps (path, headers, body)."""

    def __init__(self):
        got = self.got = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                got.append((self.path, str(self.headers), body.decode(errors="replace")))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        return list(self.got)


class Run:
    """One faultline command, its output (stdout and stderr) kept with when each line came,
    bounded in time."""

    def __init__(self, name, argv, env, seconds, work):
        self.name = name
        self.lines = []  # (seconds since the start, line)
        started = time.monotonic()
        seconds = max(1.0, min(seconds, DEADLINE - started))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)

        def read():
            for raw in proc.stdout:
                self.lines.append((time.monotonic() - started, raw.decode(errors="replace")))
        reader = threading.Thread(target=read)
        reader.start()
        try:
            self.code = proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.code = None
        reader.join(10)
        self.seconds = time.monotonic() - started
        self.output = "".join(line for _, line in self.lines)
        with open(os.path.join(work, f"{name}.out"), "w") as f:
            f.write(self.output)

    def first(self, text):
        """Seconds from the start to the first line containing `text` (None: none)."""
        return next((round(t, 2) for t, line in self.lines if text in line), None)

    def summary(self):
        for line in reversed(self.output.strip().splitlines()):
            if line.startswith("{") and '"events"' in line:
                try:
                    return json.loads(line)
                except ValueError:
                    pass
        return {}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("faultline")
    parser.add_argument("work")
    args = parser.parse_args()
    work = os.path.abspath(args.work)
    own_broker = os.path.join(work, "kafka")
    if os.path.isdir(own_broker):
        kafka("stop", own_broker)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, mode=0o700)
    pki, password, secret_values = make_pki(work, os.path.join(own_broker, "secure"))
    started = time.monotonic()
    try:
        result = kafka("start", own_broker, "--secure")
        check(result.returncode == 0, f"the secure broker did not start: {result.stderr[-3000:]}")
        if result.returncode == 0:
            print(f"secure broker ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
            scenarios(args.faultline, work, own_broker, pki, password, secret_values)
    finally:
        stopped = kafka("stop", own_broker)
        check(stopped.returncode == 0, f"the broker did not stop: {stopped.stderr[-1000:]}")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all checks passed", file=sys.stderr)


def scenarios(faultline, work, own_broker, pki, password, secret_values):
    with open(os.path.join(own_broker, "bootstrap.ssl")) as f:
        ssl_bootstrap = f.read().strip()
    with open(os.path.join(own_broker, "bootstrap.sasl_ssl")) as f:
        sasl_bootstrap = f.read().strip()
    p = lambda name: os.path.join(pki, name)  # noqa: E731
    topic = f"secure-{os.getpid()}"
    producer_out, produced, produce_seconds = produce(work, sasl_bootstrap, topic, p("ca.pem"),
                                                      password)
    outputs = {"console producer": producer_out}
    print(f"published {produced} events over SASL_SSL in {produce_seconds:.1f} s",
          file=sys.stderr)

    with open(p("client.key")) as f:
        client_key = f.read()
    wrong_password = secrets.token_urlsafe(18)
    secret_values["wrong password"] = wrong_password
    # The sinks' credentials: tokens in URL paths, an HMAC secret, a routing key.
    sink_secrets = {"webhook URL token": secrets.token_hex(16),
                    "webhook HMAC secret": secrets.token_urlsafe(24),
                    "PagerDuty routing key": secrets.token_hex(16),
                    "Slack URL token": secrets.token_hex(16)}
    secret_values.update(sink_secrets)
    receiver = Receiver()
    hook = f"http://127.0.0.1:{receiver.port}/hooks/{sink_secrets['webhook URL token']}"
    private(os.path.join(work, "routing-key"), sink_secrets["PagerDuty routing key"] + "\n")
    private(os.path.join(work, "slack-url"),
            f"http://127.0.0.1:{receiver.port}/services/{sink_secrets['Slack URL token']}\n")
    env = dict(os.environ, FAULTLINE_TEST_SASL_PASSWORD=password,
               FAULTLINE_TEST_WRONG_PASSWORD=wrong_password,
               FAULTLINE_TEST_CLIENT_KEY=client_key,
               FAULTLINE_TEST_HOOK_URL=hook,
               FAULTLINE_TEST_HMAC=sink_secrets["webhook HMAC secret"],
               FAULTLINE_TEST_DEAD_HOOK_URL=f"http://127.0.0.1:1/hooks/"
                                            f"{sink_secrets['webhook URL token']}")
    secret_sinks = (
        "  - type: webhook\n    url_env: FAULTLINE_TEST_HOOK_URL\n"
        "    secret_env: FAULTLINE_TEST_HMAC\n"
        f"  - type: pagerduty\n    url: http://127.0.0.1:{receiver.port}/pagerduty\n"
        f"    routing_key_file: {os.path.join(work, 'routing-key')}\n"
        f"  - type: slack\n    url_file: {os.path.join(work, 'slack-url')}\n")

    def config(name, brokers, properties, sinks=""):
        path = os.path.join(work, f"{name}.yaml")
        lines = [f"kafka:\n  brokers: {brokers}\n  topics: [{topic}]\n  group_id: {name}\n"
                 "  auto_offset_reset: earliest\n  properties:\n"]
        lines += [f"    {k}: '{v}'\n" for k, v in properties]
        lines.append(f"sinks:\n  - type: file\n    path: {os.path.join(work, name)}.alerts\n")
        lines.append(sinks)
        with open(path, "w") as f:
            f.write("".join(lines))
        return path

    mtls = [("security.protocol", "ssl"), ("ssl.ca.location", p("ca.pem")),
            ("ssl.certificate.location", p("client.crt")),
            ("ssl.key.pem_env", "FAULTLINE_TEST_CLIENT_KEY"),
            ("ssl.key.password_file", p("key-password"))]
    scram = [("security.protocol", "sasl_ssl"), ("ssl.ca.location", p("ca.pem")),
             ("sasl.mechanisms", "SCRAM-SHA-512"), ("sasl.username", USER)]
    good = {
        "mtls": config("mtls", ssl_bootstrap, mtls + [("debug", "all")]),
        "scram": config("scram", sasl_bootstrap,
                        scram + [("sasl.password_env", "FAULTLINE_TEST_SASL_PASSWORD")],
                        secret_sinks),
    }
    # Each refused run, and what it must say.
    bad = {
        "wrong_password": config("wrong_password", sasl_bootstrap,
                                 scram + [("sasl.password_env", "FAULTLINE_TEST_WRONG_PASSWORD")]),
        "untrusted_client_cert": config(
            "untrusted_client_cert", ssl_bootstrap,
            [("security.protocol", "ssl"), ("ssl.ca.location", p("ca.pem")),
             ("ssl.certificate.location", p("rogue.crt")),
             ("ssl.key.location", p("rogue.key"))]),
        "untrusted_broker": config(
            "untrusted_broker", sasl_bootstrap,
            [("security.protocol", "sasl_ssl"), ("ssl.ca.location", p("rogue-ca.pem")),
             ("sasl.mechanisms", "SCRAM-SHA-512"), ("sasl.username", USER),
             ("sasl.password_env", "FAULTLINE_TEST_SASL_PASSWORD")]),
        # Refused before connecting: the key cannot be opened.
        "wrong_key_password": config(
            "wrong_key_password", ssl_bootstrap,
            mtls[:-1] + [("ssl.key.password_env", "FAULTLINE_TEST_WRONG_PASSWORD")]),
    }
    says = {name: "authentication failed" for name in bad}
    says["wrong_key_password"] = "maybe wrong password"
    # A property librdkafka refuses, whose value is a secret: the problem must not show it.
    refused = config("refused_value", sasl_bootstrap,
                     [("security.protocol_env", "FAULTLINE_TEST_SASL_PASSWORD")])

    runs = []
    for name, path in {**good, **bad}.items():
        runs.append(Run(f"check-config {name}", [faultline, "check-config", path], env, 60,
                        work))
        check(runs[-1].code == 0, f"check-config {name} exited {runs[-1].code}: "
                                  f"{runs[-1].output[-1500:]}")
    runs.append(Run("check-config refused_value", [faultline, "check-config", refused], env, 60,
                    work))
    check(runs[-1].code == 2 and "security.protocol" in runs[-1].output,
          f"check-config of a refused property exited {runs[-1].code}: {runs[-1].output[-1500:]}")
    runs.append(Run("run --help", [faultline, "run", "--help"], env, 30, work))

    figures = {"events_published": produced}
    for name, path in good.items():
        run = Run(name, [faultline, "run", "--config", path, "--exit-at-end", "--progress-every",
                         "0"], env, RUN_SECONDS, work)
        runs.append(run)
        alerts_path = os.path.join(work, f"{name}.alerts")
        alerts = []
        if os.path.exists(alerts_path):
            with open(alerts_path) as f:
                alerts = [json.loads(line) for line in f if line.strip()]
        rules = sorted({a.get("rule") for a in alerts})
        summary = run.summary()
        check(run.code == 0, f"{name}: faultline run exited {run.code}: {run.output[-3000:]}")
        check(summary.get("events") == produced,
              f"{name}: read {summary.get('events')} events of {produced}")
        check("iis_app_pool_disabled" in rules and
              all(a.get("app_pool") == "MSExchangeOWAAppPool" for a in alerts),
              f"{name}: the incident was not detected: rules {rules}")
        connected = run.first("kafka: assigned")
        check(connected is not None, f"{name}: no partition was assigned")
        figures[name] = {"seconds": round(run.seconds, 2), "connect_seconds": connected,
                         "events": summary.get("events"), "alerts": len(alerts),
                         "rules": rules}
        print(f"{name}: connected (partition assigned) after {connected} s, exit {run.code} "
              f"after {run.seconds:.2f} s, {summary.get('events')} events read, {len(alerts)} "
              f"alerts ({', '.join(rules)})", file=sys.stderr)
    for name, path in bad.items():
        run = Run(name, [faultline, "run", "--config", path, "--exit-at-end", "--progress-every",
                         "0"], env, FAIL_SECONDS, work)
        runs.append(run)
        said = [ln for ln in run.output.splitlines() if says[name] in ln]
        check(run.code not in (0, None),
              f"{name}: faultline run exited {run.code} (None: still running after "
              f"{FAIL_SECONDS} s): {run.output[-2000:]}")
        check(bool(said), f"{name}: no line says {says[name]}: {run.output[-2000:]}")
        figures[name] = {"seconds": round(run.seconds, 2), "exit": run.code}
        print(f"{name}: exit {run.code} after {run.seconds:.2f} s: "
              f"{said[-1][:300] if said else '-'}", file=sys.stderr)

    # (d) the secret sinks got the SCRAM run's alerts (3), each with its credential; a replay
    # to the webhook on a closed port logs its failures and exits 1 (alerts not delivered).
    got = receiver.stop()
    for path_part, what in ((f"/hooks/{sink_secrets['webhook URL token']}", "webhook"),
                            (f"/services/{sink_secrets['Slack URL token']}", "slack")):
        n = sum(1 for path, _, _ in got if path == path_part)
        check(n >= 3, f"the {what} sink delivered {n} requests to its secret URL, not 3")
    signed = [h for path, h, _ in got if path.startswith("/hooks/")]
    check(signed and all("X-Faultline-Signature" in h for h in signed),
          "the webhook's requests are not signed")
    paged = [body for path, _, body in got if path == "/pagerduty"]
    check(len(paged) >= 3 and all(sink_secrets["PagerDuty routing key"] in b for b in paged),
          f"PagerDuty got {len(paged)} events with the routing key, not 3")
    figures["secret_sink_requests"] = len(got)
    dead = config("dead_hook", sasl_bootstrap,
                  scram + [("sasl.password_env", "FAULTLINE_TEST_SASL_PASSWORD")],
                  "  - type: webhook\n    url_env: FAULTLINE_TEST_DEAD_HOOK_URL\n"
                  "    secret_env: FAULTLINE_TEST_HMAC\n"
                  "delivery:\n  shutdown_timeout: 2s\n  retry_backoff: 100ms\n")
    runs.append(Run("dead_hook", [faultline, "run", "--config", dead, "--exit-at-end",
                                  "--progress-every", "0"], env, RUN_SECONDS, work))
    check(runs[-1].code == 1 and "not delivered" in runs[-1].output,
          f"a run to a dead webhook exited {runs[-1].code}: {runs[-1].output[-1500:]}")
    check("127.0.0.1:1" in runs[-1].output,
          "the dead webhook's failures are not logged with its host: the search would be idle")

    # (e) every line of every output, each secret; first on a planted line, so that a search
    # that finds nothing cannot pass unnoticed.
    def shown(text):
        return [(number, what) for number, line in enumerate(text.splitlines(), 1)
                for what, value in secret_values.items() if value in line]
    check(len(shown(f"x\nkey: {client_key}\npassword={password}\n")) >= 3,
          "the search does not find planted secrets")
    outputs.update({run.name: run.output for run in runs})
    lines = 0
    for where, text in outputs.items():
        lines += len(text.splitlines())
        for number, what in shown(text):
            check(False, f"{where}: line {number} shows the {what}")
    figures["lines_searched"] = lines
    figures["secrets_searched"] = len(secret_values)
    print(f"searched {lines} output lines of {len(outputs)} commands for "
          f"{len(secret_values)} secrets", file=sys.stderr)
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(figures, f, indent=1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
