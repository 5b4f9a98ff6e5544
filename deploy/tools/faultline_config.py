"""What the deploy/ tests need to know about a faultline configuration file.

The file itself is validated by `faultline check-config` (deploy/CMakeLists.txt); this module only
reads the few values that manifests and units must agree with, with faultline's defaults
(deploy/faultline.example.yaml) where a key is absent.
"""

import re

import yaml

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}

# Time a sink's delivery in flight at a stop may still take (the dispatcher lets it finish):
# sinks/http/http_client.h (timeout 10s, the whole exchange: webhook, pagerduty, slack,
# alertmanager) and sinks/kafka/kafka_sink.cc (timeout 30s, waited on for timeout + 5s).
_HTTP_SINKS = {"webhook", "pagerduty", "slack", "alertmanager"}
_DEFAULT_HTTP_TIMEOUT = 10.0
_DEFAULT_KAFKA_TIMEOUT = 30.0
_KAFKA_SINK_EXTRA_WAIT = 5.0
# The final synchronous commit and leaving the group, after the sinks are done.
_COMMIT_AND_CLOSE = 10.0


def duration_seconds(text):
    """Parses a duration as faultline writes them (absl::ParseDuration): 90s, 5m, 1h30m, 250ms."""
    if isinstance(text, (int, float)):
        return float(text)
    text = str(text).strip()
    if text in ("0", "inf"):
        return 0.0 if text == "0" else float("inf")
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise ValueError(f"not a duration: {text!r}")
    return total


class FaultlineConfig:
    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            self.root = yaml.safe_load(f) or {}

    def section(self, name):
        return self.root.get(name) or {}

    @property
    def kafka(self):
        return self.section("kafka")

    @property
    def brokers(self):
        return self.kafka.get("brokers", "127.0.0.1:9092")

    @property
    def topics(self):
        topics = self.kafka.get("topics", ["winlogbeat"])
        return [topics] if isinstance(topics, str) else list(topics)

    @property
    def group_id(self):
        return self.kafka.get("group_id", "faultline")

    @property
    def auto_offset_reset(self):
        return self.kafka.get("auto_offset_reset", "earliest")

    @property
    def spool_dir(self):
        return self.section("delivery").get("spool_dir", "")

    @property
    def shutdown_timeout(self):
        return duration_seconds(self.section("delivery").get("shutdown_timeout", "10s"))

    @property
    def metrics_listen(self):
        return self.section("metrics").get("listen", "")

    @property
    def metrics_port(self):
        listen = self.metrics_listen
        return int(listen.rsplit(":", 1)[1]) if listen else None

    @property
    def sinks(self):
        return self.root.get("sinks") or [{"type": "stdout"}]

    def secret_env_vars(self):
        """The environment variables the sinks read secrets from (url_env, secret_env, ...)."""
        return sorted({str(v) for s in self.sinks for k, v in s.items() if k.endswith("_env")})

    def stop_budget(self):
        """How long `faultline run` may take from SIGTERM to exit, at most, with this file.

        app/pipeline.cc Drain(): the dead letters get shutdown_timeout to flush, then the
        dispatcher waits up to shutdown_timeout for the queues to empty and lets a delivery in
        flight finish (its sink's timeout); then the source commits and closes.
        """
        budget = self.shutdown_timeout
        if self.section("ingest").get("dead_letter_topic"):
            budget += self.shutdown_timeout
        in_flight = 0.0
        for sink in self.sinks:
            kind = sink.get("type")
            if kind in _HTTP_SINKS:
                in_flight = max(in_flight,
                                duration_seconds(sink.get("timeout", _DEFAULT_HTTP_TIMEOUT)))
            elif kind == "kafka":
                in_flight = max(in_flight,
                                duration_seconds(sink.get("timeout", _DEFAULT_KAFKA_TIMEOUT)) +
                                _KAFKA_SINK_EXTRA_WAIT)
        return budget + in_flight + _COMMIT_AND_CLOSE
