#!/usr/bin/env python3
"""Scores alerts against bench/loadgen's ground truth: recall, precision and duplicates per rule.

  python3 bench/score.py TRUTH.jsonl ALERTS.jsonl [--rules r1,r2] [--json]

TRUTH: loadgen --truth (one incident per line, each with the rules it must raise). ALERTS: JSON
lines with at least "rule" and "host" / "app_pool" / "service" (faultline's alerts; the peers of
bench/e2e.py write the same keys). Only an incident's first notification counts (faultline:
status "firing" with sequence 1; the peers write one line per incident); a later first
notification of an incident already raised is a duplicate. An alert no incident explains is a
false positive. --rules limits the scoring to the rules a system implements (the peers detect
bursts and imminent rapid-fail only). Prints a table, or with --json one object:
{"recall":R,"precision":P,"expected":N,"detected":N,"false_positives":N,"duplicates":N,
 "missed":[...first 20...],"unexpected":[...first 20...],"by_rule":{...}}."""
import argparse
import json
import sys


def incident_keys(incident):
    """The (rule, key) pairs an incident must raise; the key is what an alert names."""
    for rule in incident["rules"]:
        if rule == "fleet_app_pool_failures":
            yield rule, ("", incident["app_pool"].lower())
        elif "service" in incident:
            yield rule, (incident["host"].lower(), "svc:" + incident["service"].lower())
        else:
            yield rule, (incident["host"].lower(), incident["app_pool"].lower())


def alert_keys(alert, services):
    """The key of an alert, as incident_keys spells it (a service may be named by display name
    where the forwarder drops the service key, as Fluent Bit does)."""
    rule = alert.get("rule", "")
    if rule == "fleet_app_pool_failures":
        return rule, ("", alert.get("app_pool", "").lower())
    host = alert.get("host", "").lower()
    if alert.get("service"):
        service = alert["service"].lower()
        return rule, (host, "svc:" + services.get(service, service))
    return rule, (host, alert.get("app_pool", "").lower())


def first_notification(alert):
    if "sequence" in alert:  # faultline: each incident's first firing notification
        return alert.get("status") == "firing" and alert.get("sequence") == 1
    return True


def score(truth_lines, alert_lines, rules=None):
    expected = {}
    services = {}  # display name -> key
    for line in truth_lines:
        if not line.strip():
            continue
        incident = json.loads(line)
        if "service_name" in incident:
            services[incident["service_name"].lower()] = incident["service"].lower()
        for rule, key in incident_keys(incident):
            if rules is None or rule in rules:
                # Each incident has its own pool or (host, service): a key met twice would let
                # one alert count for two incidents.
                assert (rule, key) not in expected, f"two incidents share {rule} {key}"
                expected[(rule, key)] = incident
    seen = {}
    unexpected = []
    for line in alert_lines:
        if not line.strip():
            continue
        alert = json.loads(line)
        if not first_notification(alert):
            continue
        rule, key = alert_keys(alert, services)
        if rules is not None and rule not in rules:
            continue
        if (rule, key) in expected:
            seen[(rule, key)] = seen.get((rule, key), 0) + 1
        else:
            unexpected.append({"rule": rule, "key": list(key)})
    detected = len(seen)
    duplicates = sum(n - 1 for n in seen.values())
    fired = detected + len(unexpected)
    by_rule = {}
    for (rule, _key) in expected:
        r = by_rule.setdefault(rule, {"expected": 0, "detected": 0, "false_positives": 0})
        r["expected"] += 1
        r["detected"] += (rule, _key) in seen
    for u in unexpected:
        by_rule.setdefault(u["rule"], {"expected": 0, "detected": 0, "false_positives": 0})[
            "false_positives"] += 1
    missed = [{"rule": rule, "key": list(key), "incident": inc.get("incident"),
               "type": inc.get("type"), "forwarder": inc.get("forwarder"),
               "clock_offset_s": inc.get("clock_offset_s")}
              for (rule, key), inc in expected.items() if (rule, key) not in seen]
    return {"recall": detected / len(expected) if expected else 1.0,
            "precision": detected / fired if fired else 1.0,
            "expected": len(expected), "detected": detected,
            "false_positives": len(unexpected), "duplicates": duplicates,
            "missed": missed[:20], "unexpected": unexpected[:20], "by_rule": by_rule}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("truth")
    parser.add_argument("alerts")
    parser.add_argument("--rules", help="comma-separated rules to score (default: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with open(args.truth) as t, open(args.alerts) as a:
        result = score(t, a, set(args.rules.split(",")) if args.rules else None)
    if args.json:
        print(json.dumps(result))
        return
    print("| rule | expected | detected | false positives |")
    print("|---|---|---|---|")
    for rule, r in sorted(result["by_rule"].items()):
        print(f"| {rule} | {r['expected']} | {r['detected']} | {r['false_positives']} |")
    print(f"\nrecall {result['recall']:.4f}, precision {result['precision']:.4f}, "
          f"duplicates {result['duplicates']}")
    for m in result["missed"]:
        print("missed:", json.dumps(m), file=sys.stderr)
    for u in result["unexpected"]:
        print("unexpected:", json.dumps(u), file=sys.stderr)


if __name__ == "__main__":
    main()
