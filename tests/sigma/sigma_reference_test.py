#!/usr/bin/env python3
"""faultline's Sigma matcher against a reference evaluator, pySigma (issue "Conformance").

Every rule of SigmaHQ's tree (../shared/fixtures/sigma: rules, rules-emerging-threats,
rules-threat-hunting) meets every event of two corpora, on both sides:
  - regression: SigmaHQ's regression data (regression_data/**/<rule id>.json, evtx_dump JSON);
  - probes: a few events made from each Windows rule's own detection (probes.py), so that the
    rules and modifiers the regression data never exercises meet events too;
faultline through `faultline sigma check` (which rules load) and `faultline sigma match` (which
rules each event matches), the reference through pysigma_reference.py (pySigma's SQLite backend
and Windows pipelines; it writes the probes). Per event, the rule sets are compared over the rules
both sides evaluate (loaded by faultline and converted by pySigma).

Every disagreement must be explained in known_disagreements.yml (rule id, corpus, file, the side
that matched, and why: who is right by the Sigma specification), and every entry there must still
occur: a fix on either side makes its entry stale, and the test says so. Each run writes the
disagreements as JSON (disagreements.json in the work directory) to help keep that file.

Run through tests/sigma/setup.sh exec (the venv with pySigma): CTest's sigma_reference_test.
Exits 77 (skipped) without ../shared. Prints the figures: rules loaded / skipped by reason /
converted / compared, events, matches, agreements, disagreements by cause, each listed.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
RULE_DIRS = ("rules", "rules-emerging-threats", "rules-threat-hunting")
SKIP = 77


def run(cmd, cwd=None):
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"FAIL: {' '.join(cmd[:4])} ... exited {proc.returncode}")
    return proc.stdout, proc.stderr, time.monotonic() - started


def faultline_loaded(faultline, sigma_dir):
    """{rule file: loaded?}, and the skip reasons by count, from `faultline sigma check`."""
    out, _, _ = run([faultline, "sigma", "check", *RULE_DIRS], cwd=sigma_dir)
    files, reasons = {}, collections.Counter()
    for line in out.splitlines():
        m = re.match(r"(loaded|skipped)\s+(\S+?):(\d+)\s+(.*)$", line)
        if not m:
            continue
        files[m.group(2)] = m.group(1) == "loaded"
        if m.group(1) == "skipped":
            reason = m.group(4).split(": ", 1)[-1]
            reasons[reason] += 1
    return files, reasons


def faultline_match(faultline, sigma_dir, corpus_dir):
    """{(file, event): set of rule ids} of every .json file under corpus_dir."""
    files = sorted(os.path.relpath(os.path.join(root, f), corpus_dir)
                   for root, _, names in os.walk(corpus_dir) for f in names
                   if f.endswith(".json"))
    rules = [a for d in RULE_DIRS for a in ("--rules", os.path.join(sigma_dir, d))]
    result = {}
    for i in range(0, len(files), 1500):  # bounded command lines; each run loads the rules
        out, _, _ = run([faultline, "sigma", "match", *rules, *files[i:i + 1500]], cwd=corpus_dir)
        for line in out.splitlines():
            o = json.loads(line)
            result[(o["file"], o["event"])] = set(o["rules"])
    return result


def load_known(path):
    """{(rule, corpus, file, side): reason} from known_disagreements.yml: a list of entries, each
    with corpus, side (the side that matched), reason, and either rule + file (or files), or
    matches: {rule id: file or [files]} for one reason shared by several rules."""
    with open(path, encoding="utf-8") as f:
        entries = yaml.safe_load(f) or []
    known = {}
    for e in entries:
        for field in ("corpus", "side", "reason"):
            if not e.get(field):
                raise SystemExit(f"FAIL: {path}: an entry without {field}: {e}")
        if e["side"] not in ("faultline", "reference"):
            raise SystemExit(f"FAIL: {path}: side is faultline or reference: {e}")
        matches = e.get("matches") or {e.get("rule"): e.get("files") or e.get("file")}
        for rule, files in matches.items():
            if not rule or not files:
                raise SystemExit(f"FAIL: {path}: an entry without rule and file(s): {e}")
            for file in [files] if isinstance(files, str) else files:
                known[(rule, e["corpus"], file, e["side"])] = " ".join(e["reason"].split())
    return known


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faultline", required=True)
    ap.add_argument("--shared", required=True, help="the shared directory (../shared)")
    ap.add_argument("--work", required=True, help="a directory of the test's own")
    ap.add_argument("--known", default=os.path.join(HERE, "known_disagreements.yml"))
    args = ap.parse_args()

    sigma_dir = os.path.join(args.shared, "fixtures", "sigma")
    regression_dir = os.path.join(sigma_dir, "regression_data")
    if not all(os.path.isdir(os.path.join(sigma_dir, d)) for d in (*RULE_DIRS, "regression_data")):
        print(f"SKIP: {sigma_dir} (SigmaHQ's rules and regression data, in ../shared) is absent")
        return SKIP
    started = time.monotonic()
    os.makedirs(args.work, exist_ok=True)
    probes_dir = os.path.join(args.work, "probes")
    if os.path.isdir(probes_dir):
        subprocess.run(["rm", "-rf", probes_dir], check=True)
    ref_path = os.path.join(args.work, "reference.json")

    # The reference (pySigma), which also writes the probes.
    _, err, ref_seconds = run([sys.executable, os.path.join(HERE, "pysigma_reference.py"),
                               "--rules-root", sigma_dir,
                               *[a for d in RULE_DIRS for a in ("--rules", d)],
                               "--regression", regression_dir, "--probes", probes_dir,
                               "--out", ref_path])
    sys.stdout.write(err)
    with open(ref_path, encoding="utf-8") as f:
        ref = json.load(f)
    with open(probes_dir + ".index.json", encoding="utf-8") as f:
        probe_index = json.load(f)

    # faultline.
    fl_started = time.monotonic()
    loaded_files, skip_reasons = faultline_loaded(args.faultline, sigma_dir)
    fl_events = {"regression": faultline_match(args.faultline, sigma_dir, regression_dir),
                 "probes": faultline_match(args.faultline, sigma_dir, probes_dir)}
    fl_seconds = time.monotonic() - fl_started

    rules = {r["id"]: r for r in ref["rules"] if r["id"]}
    by_file = {r["file"]: r for r in ref["rules"]}
    loaded = {by_file[f]["id"] for f, ok in loaded_files.items() if ok and f in by_file}
    converted = {r["id"] for r in ref["rules"] if r["status"] == "converted"}
    compared = loaded & converted
    ref_status = collections.Counter()
    for r in ref["rules"]:
        reason = r["reason"] or ""
        ref_status[(r["status"], re.sub(r"logsource .*?: ", "logsource …: ", reason)[:110])] += 1

    failures = []
    agreements = collections.Counter()
    matched_rules = collections.defaultdict(set)
    disagreements = []  # (rule, corpus, file, event, side)
    events = 0
    for e in ref["events"]:
        corpus, file, index = e["corpus"], e["file"], e["event"]
        fl = fl_events[corpus].get((file, index))
        if fl is None:
            failures.append(f"faultline printed nothing for {corpus} {file} event {index}")
            continue
        events += 1
        fl_set, ref_set = fl & compared, set(e["rules"]) & compared
        agreements[corpus] += len(fl_set & ref_set)
        for rid in fl_set & ref_set:
            matched_rules[corpus].add(rid)
        disagreements += [(rid, corpus, file, index, "faultline") for rid in sorted(fl_set - ref_set)]
        disagreements += [(rid, corpus, file, index, "reference") for rid in sorted(ref_set - fl_set)]
    for corpus, got in fl_events.items():
        ref_keys = {(e["file"], e["event"]) for e in ref["events"] if e["corpus"] == corpus}
        for key in sorted(set(got) - ref_keys):
            failures.append(f"faultline read an event the reference did not: {corpus} {key}")

    with open(os.path.join(args.work, "disagreements.json"), "w", encoding="utf-8") as f:
        json.dump([{"rule": rid, "title": rules[rid]["title"], "corpus": corpus, "file": file,
                    "event": index, "side": side} for rid, corpus, file, index, side in disagreements],
                  f, indent=1)
    known = load_known(args.known)
    seen = set()
    explained = collections.Counter()

    print()
    print(f"pySigma {ref['versions'].get('pySigma')}, pySigma-backend-sqlite "
          f"{ref['versions'].get('pySigma-backend-sqlite')}, pipelines sysmon "
          f"{ref['versions'].get('pySigma-pipeline-sysmon')} and windows "
          f"{ref['versions'].get('pySigma-pipeline-windows')}; Python "
          f"{ref['versions'].get('python')}, SQLite {ref['versions'].get('sqlite')}")
    print(f"rules: {len(by_file)} files; faultline loaded {sum(loaded_files.values())}, skipped "
          f"{len(loaded_files) - sum(loaded_files.values())}; pySigma converted {len(converted)}; "
          f"compared (both) {len(compared)}")
    print("  faultline skipped, by reason:")
    for reason, n in skip_reasons.most_common():
        print(f"    {n:5d}  {reason}")
    print("  pySigma did not convert or left out, by reason:")
    for (status, reason), n in sorted(ref_status.items(), key=lambda kv: -kv[1]):
        if status != "converted":
            print(f"    {n:5d}  {status}: {reason}")
    only_fl = sorted(by_file[f]["file"] for f, ok in loaded_files.items()
                     if ok and f in by_file and by_file[f]["id"] not in converted)
    only_ref = sorted(rules[i]["file"] for i in converted - loaded)
    for f in only_fl:
        print(f"  loaded by faultline only (not compared): {f}: {by_file[f]['reason']}")
    for f in only_ref:
        print(f"  converted by pySigma only (not compared): {f}")
    own = {probe_index[e["file"]][e["event"]]["rule"] for e in ref["events"]
           if e["corpus"] == "probes" and probe_index[e["file"]][e["event"]]["rule"] in e["rules"]}
    print(f"probes: made from {len({p['rule'] for ps in probe_index.values() for p in ps})} "
          f"rules; {len(own & compared)} compared rules match one of their own probes (reference)")
    for corpus in ("regression", "probes"):
        n = sum(1 for e in ref["events"] if e["corpus"] == corpus)
        d = sum(1 for x in disagreements if x[1] == corpus)
        print(f"{corpus}: {n} events; {agreements[corpus]} matches on both sides "
              f"({len(matched_rules[corpus])} rules), {d} disagreements")

    print()
    print("disagreements (rule, title, corpus, file, event, the side that matched; why):")
    for rid, corpus, file, index, side in disagreements:
        key = (rid, corpus, file, side)
        reason = known.get(key)
        seen.add(key)
        what = ""
        if corpus == "probes":
            what = probe_index.get(file, [{}] * (index + 1))[index].get("probe", "")
            what = f" [probe of {probe_index[file][index]['rule']} {what}]" if what else ""
        print(f"  {rid}  {rules[rid]['title']}\n      {corpus} {file} event {index}{what}: "
              f"{side} only")
        if reason is None:
            failures.append(f"unexplained: {rid} ({rules[rid]['title']}) {corpus} {file} event "
                            f"{index}: matched by {side} only; add it to {args.known} with why")
            print("      UNEXPLAINED")
        else:
            cause = reason.split(":", 1)[0]
            explained[cause] += 1
            print(f"      {reason}")
    for key in sorted(set(known) - seen):
        rid, corpus, file, side = key
        failures.append(f"stale entry in {args.known}: {rid} {corpus} {file} {side}: no longer "
                        "disagrees; remove it")
    print()
    print(f"disagreements by cause: {dict(explained) or 'none'}")
    print(f"times: reference {ref_seconds:.1f} s ({ref['seconds']}), faultline {fl_seconds:.1f} s, "
          f"total {time.monotonic() - started:.1f} s")
    if failures:
        print()
        for f in failures:
            print(f"FAIL: {f}")
        return 1
    print(f"OK: {len(compared)} rules compared on {events} events: "
          f"{sum(agreements.values())} matches agree, {len(disagreements)} disagreements, all "
          "explained")
    return 0


if __name__ == "__main__":
    sys.exit(main())
