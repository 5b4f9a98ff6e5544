#!/usr/bin/env python3
"""Checks the manifests of deploy/kubernetes (run through deploy/tools/setup.sh exec).

  check_manifests.py schemas DIR K8S_VERSION
      every object kustomization.yaml builds, and every *.example.yaml, against the Kubernetes
      OpenAPI schemas of K8S_VERSION (kubernetes-validate, strict: unknown fields are errors, as
      `kubectl apply --validate=strict` makes them), and custom resources against the
      openAPIV3Schema of their CRD (FAULTLINE_CRD_FILES), unknown fields refused the same way.
  check_manifests.py wiring DIR PROJECT_VERSION
      that the objects agree with each other and with faultline.yaml: the config mount, the spool
      on a persistent volume, the secrets every *_env names, ports and probes, the security
      context, resources, the grace period against faultline's stop, KEDA's trigger and bounds,
      selectors, the image tag.

Prints one line per object or check, and exits 1 if any failed.
"""

import copy
import os
import re
import shutil
import subprocess
import sys

import importlib_resources
import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import Checks  # noqa: E402
from faultline_config import FaultlineConfig  # noqa: E402

KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "configMapGenerator", "images"}
# The trigger metadata KEDA 2.17's kafka scaler reads (pkg/scalers/kafka_scaler.go); the CRD types
# trigger metadata as a free map of strings, so a misspelt key would be ignored silently.
KEDA_KAFKA_METADATA = {
    "allowIdleConsumers", "awsRegion", "bootstrapServers", "bootstrapServersFromEnv",
    "consumerGroup", "consumerGroupFromEnv", "excludePersistentLag", "limitToPartitionsWithLag",
    "offsetResetPolicy", "partitionLimitation", "sasl", "saslTokenProvider",
    "scaleToZeroOnInvalidOffset", "tls", "topic", "topicFromEnv", "unsafeSsl", "version",
    "lagThreshold", "activationLagThreshold",
}
IMAGE_USER = 10001  # deploy/container/Containerfile: user faultline


def image_repo(image):
    """ghcr.io/faultline/faultline:0.1 -> ghcr.io/faultline/faultline (a registry port is kept)."""
    image = image.split("@", 1)[0]
    head, _, last = image.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def name_of(obj):
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


class Bundle:
    """The objects `kubectl apply -k DIR` would create, built the way kustomize builds them for
    the features kustomization.yaml uses (anything else in it is refused, so this cannot drift
    silently), plus the example manifests beside them."""

    def __init__(self, directory):
        self.kustomization = load_all(os.path.join(directory, "kustomization.yaml"))[0]
        unknown = set(self.kustomization) - KUSTOMIZATION_KEYS
        if unknown:
            raise SystemExit(f"kustomization.yaml: {sorted(unknown)} not understood by this check")
        self.objects = []
        for resource in self.kustomization.get("resources", []):
            for obj in load_all(os.path.join(directory, resource)):
                obj.setdefault("metadata", {})
                self.objects.append((resource, obj))
        self.generated_files = {}
        for gen in self.kustomization.get("configMapGenerator", []):
            data = {}
            for entry in gen.get("files", []):
                key, path = entry.split("=", 1) if "=" in entry else (os.path.basename(entry), entry)
                with open(os.path.join(directory, path), encoding="utf-8") as f:
                    data[key] = f.read()
                self.generated_files[(gen["name"], key)] = os.path.join(directory, path)
            labels = (gen.get("options") or {}).get("labels") or {}
            cm = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": gen["name"], **({"labels": labels} if labels else {})},
                  "data": data}
            self.objects.append(("configMapGenerator", cm))
        for image in self.kustomization.get("images", []):
            for _, obj in self.objects:
                for c in self.containers(obj):
                    if image_repo(c.get("image", "")) == image["name"]:
                        c["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
        listed = set(self.kustomization.get("resources", [])) | {
            os.path.relpath(p, directory) for p in self.generated_files.values()}
        self.examples = []
        self.unlisted = []
        for entry in sorted(os.listdir(directory)):
            if not entry.endswith(".yaml") or entry == "kustomization.yaml" or entry in listed:
                continue
            if entry.endswith(".example.yaml"):
                self.examples.extend((entry, obj) for obj in load_all(os.path.join(directory, entry)))
            else:
                self.unlisted.append(entry)

    @staticmethod
    def containers(obj):
        spec = obj.get("spec", {}).get("template", {}).get("spec", {})
        return spec.get("containers", []) + spec.get("initContainers", [])

    def find(self, kind):
        return [o for _, o in self.objects if o.get("kind") == kind]


def strict(schema):
    """A CRD schema with unknown fields refused: the API server prunes them, and strict field
    validation (kubectl's default warns, --validate=strict fails) reports them."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (node.get("type") == "object" and "properties" in node
                    and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def object_meta_validator(k8s_version):
    versions = [v for v in kubernetes_validate.utils.all_versions()
                if kubernetes_validate.utils.major_minor(v) == k8s_version]
    if not versions:
        raise SystemExit(f"kubernetes-validate has no schemas for Kubernetes {k8s_version}")
    path = importlib_resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", f"v{versions[-1]}-local-strict", "_definitions.json")
    with importlib_resources.as_file(path) as p, open(p, encoding="utf-8") as f:
        definitions = yaml.safe_load(f)
    registry = Resource.from_contents(definitions) @ Registry()
    ref = {"$ref": definitions["$id"] + "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    return jsonschema.Draft202012Validator(ref, registry=registry)


def load_crds():
    crds = {}
    files = [f for f in os.environ.get("FAULTLINE_CRD_FILES", "").split(":") if f]
    if not files:
        raise SystemExit("FAULTLINE_CRD_FILES is not set: run through deploy/tools/setup.sh exec")
    for path in files:
        for crd in load_all(path):
            spec = crd["spec"]
            for version in spec["versions"]:
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                crds[key] = (path, version)
    return crds


def error_text(error):
    where = "/".join(str(p) for p in error.absolute_path) or "(top)"
    return f"{where}: {error.message}"


def compare_with_kustomize(directory, bundle):
    """Where kubectl is installed, its kustomize must build the same objects as Bundle (names of
    generated objects carry kustomize's hash suffix). Returns the number of differences."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("skip kubectl not installed: kustomize's own build not compared")
        return 0
    run = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"FAIL kubectl kustomize {directory}: {run.stderr.strip()}")
        return 1
    generated = {name for name, _ in bundle.generated_files}
    built = set()
    for obj in yaml.safe_load_all(run.stdout):
        name = obj["metadata"]["name"]
        base = re.sub(r"-[a-z0-9]{10}$", "", name)
        built.add((obj["kind"], base if base in generated else name))
        for c in Bundle.containers(obj):
            ours = {x["name"]: x["image"] for _, o in bundle.objects if o["kind"] == obj["kind"]
                    for x in Bundle.containers(o)}
            if ours.get(c["name"]) != c["image"]:
                print(f"FAIL kustomize sets image {c['image']}, this check {ours.get(c['name'])}")
                return 1
    ours = {(o["kind"], o["metadata"]["name"]) for _, o in bundle.objects}
    same = built == ours
    print(("ok   " if same else "FAIL ") + f"kubectl kustomize builds the same {len(built)} objects"
          + ("" if same else f": only kustomize {sorted(built - ours)}, only here {sorted(ours - built)}"))
    return 0 if same else 1


def check_schemas(directory, k8s_version):
    bundle = Bundle(directory)
    crds = load_crds()
    meta = object_meta_validator(k8s_version)
    failures = compare_with_kustomize(directory, bundle)
    if bundle.unlisted:
        print(f"FAIL {', '.join(bundle.unlisted)}: neither in kustomization.yaml nor *.example.yaml")
        failures += 1
    for source, obj in bundle.objects + bundle.examples:
        key = (obj.get("apiVersion"), obj.get("kind"))
        label = f"{source}: {name_of(obj)} ({key[0]})"
        if key in crds:
            path, version = crds[key]
            if not version.get("served", False):
                print(f"FAIL {label}: {key[0]} is not served by {os.path.basename(path)}")
                failures += 1
                continue
            schema = strict(version["schema"]["openAPIV3Schema"])
            errors = [error_text(e) for e in jsonschema.Draft202012Validator(schema).iter_errors(obj)]
            errors += [f"metadata/{error_text(e)}" for e in meta.iter_errors(obj["metadata"])]
            against = os.path.basename(path)
        else:
            try:
                kubernetes_validate.validate(obj, k8s_version, strict=True)
                errors = []
            except kubernetes_validate.ValidationError as e:
                errors = [error_text(e)]
            except kubernetes_validate.SchemaNotFoundError as e:
                errors = [e.message + " (and no CRD file has it)"]
            against = f"Kubernetes {k8s_version}"
        if errors:
            failures += 1
            for e in errors:
                print(f"FAIL {label} against {against}: {e}")
        else:
            print(f"ok   {label} against {against}")
    return failures


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_wiring(directory, project_version):
    bundle = Bundle(directory)
    c = Checks()
    sts_list = bundle.find("StatefulSet")
    if not c.expect(len(sts_list) == 1, "one StatefulSet"):
        return c.failures
    sts = sts_list[0]
    pod = sts["spec"]["template"]["spec"]
    pod_labels = sts["spec"]["template"]["metadata"].get("labels", {})
    container = next((x for x in pod["containers"] if x["name"] == "faultline"), None)
    if not c.expect(container is not None, "a container named faultline"):
        return c.failures

    # The configuration: --config names a file of a mounted ConfigMap made from faultline.yaml.
    args = container.get("args", [])
    config_path = args[args.index("--config") + 1] if "--config" in args else None
    c.expect(args[:1] == ["run"] and config_path is not None, f"args run faultline: {args}")
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    config = None
    if config_path:
        mount = mounts.get(os.path.dirname(config_path))
        volume = volumes.get(mount["name"]) if mount else None
        cm_name = (volume or {}).get("configMap", {}).get("name")
        source = bundle.generated_files.get((cm_name, os.path.basename(config_path)))
        if c.expect(source is not None,
                    f"--config {config_path} is a key of a generated ConfigMap mounted there"):
            config = FaultlineConfig(source)
            c.expect(os.path.basename(source).startswith("faultline") and source.endswith(".yaml"),
                     f"{os.path.basename(source)} is named faultline*.yaml (check-config runs on it)")
            c.expect(mount.get("readOnly") is True, "the configuration is mounted read-only")
    if config is None:
        return c.failures + 1

    # The spool must outlive the pod: it is on a claim of the StatefulSet, never an emptyDir.
    claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
    spool = config.spool_dir
    if c.expect(bool(spool), f"delivery.spool_dir is set ({spool})"):
        holder = max((p for p in mounts if spool == p or spool.startswith(p.rstrip("/") + "/")),
                     key=len, default=None)
        name = mounts[holder]["name"] if holder else None
        c.expect(name in claims, f"spool {spool} is on a volumeClaimTemplate (mount {holder}, volume {name})")
        c.expect(not (holder and mounts[holder].get("readOnly")), "the spool is writable")
    retention = sts["spec"].get("persistentVolumeClaimRetentionPolicy", {})
    c.expect(retention.get("whenScaled", "Retain") == "Retain",
             "a scaled-down replica keeps its spool claim (whenScaled: Retain)")

    # Secrets: every *_env of faultline.yaml is set from a Secret, and the example has the key.
    env = {e["name"]: e for e in container.get("env", [])}
    examples = {o["metadata"]["name"]: o for _, o in bundle.examples if o.get("kind") == "Secret"}
    for var in config.secret_env_vars():
        ref = env.get(var, {}).get("valueFrom", {}).get("secretKeyRef")
        if c.expect(ref is not None, f"{var} (a *_env of faultline.yaml) comes from a secretKeyRef"):
            secret = examples.get(ref["name"], {})
            keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
            c.expect(ref["key"] in keys,
                     f"secret.example.yaml has {ref['name']}/{ref['key']} (placeholder)")
    for name, secret in examples.items():
        values = list(secret.get("stringData", {}).values()) + list(secret.get("data", {}).values())
        c.expect(all("REPLACE-ME" in str(v) for v in values),
                 f"example Secret {name} holds only REPLACE-ME placeholders")

    # Metrics, health and readiness on the port faultline listens on.
    port = config.metrics_port
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    c.expect(port is not None and ports.get("metrics") == port,
             f"containerPort metrics = metrics.listen port ({port})")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet", {})
        c.expect(get.get("path") == path and get.get("port") in ("metrics", port),
                 f"{probe} is GET {path} on the metrics port")
    services = {s["metadata"]["name"]: s for s in bundle.find("Service")}
    service = services.get(sts["spec"].get("serviceName"))
    if c.expect(service is not None, f"serviceName {sts['spec'].get('serviceName')} is a Service here"):
        c.expect(service["spec"].get("clusterIP") == "None", "the governing Service is headless")
        c.expect(labels_match(service["spec"].get("selector"), pod_labels), "the Service selects the pods")
        c.expect(any(p.get("targetPort") in ("metrics", port) for p in service["spec"]["ports"]),
                 "the Service exposes the metrics port")
    for pm in bundle.find("PodMonitor"):
        c.expect(labels_match(pm["spec"]["selector"].get("matchLabels"), pod_labels),
                 "the PodMonitor selects the pods")
        c.expect(all(e.get("port") == "metrics" and e.get("path", "/metrics") == "/metrics"
                     for e in pm["spec"]["podMetricsEndpoints"]), "the PodMonitor scrapes metrics /metrics")
    for pdb in bundle.find("PodDisruptionBudget"):
        c.expect(labels_match(pdb["spec"]["selector"].get("matchLabels"), pod_labels),
                 "the PodDisruptionBudget selects the pods")
        c.expect(pdb["spec"].get("maxUnavailable") == 1 or
                 pdb["spec"].get("minAvailable", 0) == sts["spec"]["replicas"] - 1,
                 "the PodDisruptionBudget lets one replica go at a time")
    c.expect(labels_match(sts["spec"]["selector"].get("matchLabels"), pod_labels),
             "the StatefulSet selector matches its template")

    # Security context, pod and container.
    psc, csc = pod.get("securityContext", {}), container.get("securityContext", {})
    c.expect(psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True, "runAsNonRoot")
    c.expect(csc.get("runAsUser", psc.get("runAsUser")) == IMAGE_USER, f"runs as uid {IMAGE_USER}")
    c.expect(csc.get("runAsGroup", psc.get("runAsGroup")) == IMAGE_USER, f"runs as gid {IMAGE_USER}")
    c.expect(psc.get("fsGroup") == IMAGE_USER, "fsGroup makes the spool volume writable")
    c.expect(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem")
    c.expect(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
    c.expect(csc.get("privileged", False) is False, "not privileged")
    c.expect(csc.get("capabilities", {}).get("drop") == ["ALL"] and
             not csc.get("capabilities", {}).get("add"), "capabilities: drop ALL, add none")
    seccomp = csc.get("seccompProfile", psc.get("seccompProfile", {}))
    c.expect(seccomp.get("type") == "RuntimeDefault", "seccompProfile RuntimeDefault")
    c.expect(pod.get("automountServiceAccountToken") is False, "no service account token mounted")
    accounts = {a["metadata"]["name"] for a in bundle.find("ServiceAccount")}
    c.expect(pod.get("serviceAccountName") in accounts, "its ServiceAccount is in the bundle")

    # Resources.
    resources = container.get("resources", {})
    requests, limits = resources.get("requests", {}), resources.get("limits", {})
    for kind in ("cpu", "memory"):
        have = kind in requests and kind in limits
        c.expect(have and quantity(limits[kind]) >= quantity(requests[kind]),
                 f"{kind}: request {requests.get(kind)} <= limit {limits.get(kind)}")

    # Stopping: the grace period covers faultline's stop with this configuration.
    grace = pod.get("terminationGracePeriodSeconds", 30)
    budget = config.stop_budget()
    c.expect(grace >= budget,
             f"terminationGracePeriodSeconds {grace} >= faultline's stop ({budget:g}s: "
             f"shutdown_timeout {config.shutdown_timeout:g}s, a delivery in flight, the commit)")

    # KEDA.
    for so in bundle.find("ScaledObject"):
        spec = so["spec"]
        ref = spec["scaleTargetRef"]
        c.expect(ref.get("kind") == "StatefulSet" and ref.get("name") == sts["metadata"]["name"],
                 f"the ScaledObject scales StatefulSet/{sts['metadata']['name']}")
        c.expect(spec.get("minReplicaCount") == sts["spec"]["replicas"],
                 f"minReplicaCount {spec.get('minReplicaCount')} = replicas {sts['spec']['replicas']}")
        c.expect(spec.get("maxReplicaCount", 100) >= spec.get("minReplicaCount", 0),
                 "maxReplicaCount >= minReplicaCount")
        for trigger in spec["triggers"]:
            if not c.expect(trigger["type"] == "kafka", f"trigger type {trigger['type']} is kafka"):
                continue
            m = trigger["metadata"]
            unknown = sorted(set(m) - KEDA_KAFKA_METADATA)
            c.expect(not unknown, f"kafka trigger metadata keys known to KEDA 2.17 (unknown: {unknown})")
            c.expect(m.get("bootstrapServers") == config.brokers,
                     f"trigger bootstrapServers = kafka.brokers ({config.brokers})")
            c.expect(m.get("consumerGroup") == config.group_id,
                     f"trigger consumerGroup = kafka.group_id ({config.group_id})")
            c.expect(m.get("topic") in config.topics, f"trigger topic is one of kafka.topics {config.topics}")
            c.expect(m.get("offsetResetPolicy", "latest") == config.auto_offset_reset,
                     f"trigger offsetResetPolicy = kafka.auto_offset_reset ({config.auto_offset_reset})")
            c.expect(str(m.get("allowIdleConsumers", "false")).lower() == "false",
                     "allowIdleConsumers false: KEDA never targets more replicas than partitions")
            c.expect(int(m.get("lagThreshold", "10")) > 0, "lagThreshold is positive")

    # The image: faultline's own, at this version.
    image = container.get("image", "")
    c.expect(image == f"ghcr.io/faultline/faultline:{project_version}",
             f"image {image} is ghcr.io/faultline/faultline:{project_version}")
    return c.failures


def quantity(text):
    """A Kubernetes quantity as a number (enough for cpu and memory: m, Ki..Ei, k..E)."""
    text = str(text)
    suffixes = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "m": 1e-3, "k": 1e3,
                "M": 1e6, "G": 1e9, "T": 1e12}
    for suffix, factor in sorted(suffixes.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def main(argv):
    if len(argv) != 4 or argv[1] not in ("schemas", "wiring"):
        print(__doc__, file=sys.stderr)
        return 2
    directory = argv[2]
    if argv[1] == "schemas":
        failures = check_schemas(directory, argv[3])
    else:
        failures = check_wiring(directory, argv[3])
    print(f"{failures} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
