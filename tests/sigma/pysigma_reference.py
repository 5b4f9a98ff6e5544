#!/usr/bin/env python3
r"""The reference evaluator of the Sigma cross-check (tests/sigma/sigma_reference_test.py).

pySigma (SigmaHQ's own library, from PyPI) converts every rule of the given rule directories into
an SQLite query with pySigma-backend-sqlite and the processing pipelines every Windows backend
uses: pySigma-pipeline-sysmon (category -> Sysmon EventID, service sysmon) then
pySigma-pipeline-windows's windows_logsource_pipeline (service -> Channel, ps_* categories ->
PowerShell channels and EventIDs). Every event of the regression files (and of the probe files
this script writes first, probes.py) is one row of an in-memory SQLite table; each query runs on
it, and the rule ids each event matches are written as JSON. Nothing of faultline is used here.

The table (one row per event), as Zircolite lays out the same evtx_dump JSON:
  - corpus (regression, probes), file (relative to the corpus directory) and idx (the document's
    number in its file, from 0);
  - System: a scalar under its name (EventID, Channel, Computer, Level, ...), an element's text
    under its name (EventID of {"#text": 4104, "#attributes": {"Qualifiers": 0}}), an attribute
    as ELEMENT_ATTRIBUTE (Provider_Name, Provider_Guid, Security_UserID, TimeCreated_SystemTime);
  - EventData and UserData: every leaf under its own name, at any depth; "#attributes" are no
    fields; the names lose their spaces (Windows Defender's "Source Name" is SourceName, as in
    the Sigma taxonomy); the first of a repeated name wins, System's before the data's;
  - EventData's unnamed <Data> elements (evtx_dump's "Data": "x", ["a", "b"] or {"#text": [...]})
    are one field Data, the elements one a line: SigmaHQ's rules read Data as "the container for
    the event data as a whole" (classic PowerShell 400/600/800, MSSQL, ESENT, MsiInstaller...);
  - values as text (a number or boolean as JSON writes it); a JSON null is no value (NULL: the
    field is absent, which `field: null` matches);
  - every column is TEXT COLLATE NOCASE (Zircolite's layout, which the backend's "=" relies on
    for Sigma's case-insensitive equality; LIKE is case-insensitive anyway; both fold ASCII
    only); column names are case-insensitive (SQLite's);
  - fulltext: every value of the event (System's and the data's), one a line, which keyword
    (field-less) searches read with LIKE '%keyword%': the Sigma specification searches keywords
    "across an entire event".

`|re` becomes `REGEXP`, a Python function registered here: Python's re.search, case-sensitive
unless the rule's `|re|i` put `(?i)` in front. Python's re is not PCRE, faultline's dialect: no
recursion, \K, \h, \z or (?<name>...) (Python's \Z is PCRE's \z); \d, \w, \s and (?i) are
Unicode-aware where PCRE without UCP is ASCII-only. pySigma compiles every regex with Python's re at parse time
(TrustedPolicy: Python's engine, not RE2, so lookarounds are accepted), so a regex Python rejects
makes its rule "not converted", never silently unmatched; none of SigmaHQ's does today.

Rules the reference cannot evaluate are listed with the reason and left out of the comparison:
  - not_converted: pySigma could not parse or convert it (the exception's text);
  - excluded: its logsource is not a Windows event log (product not windows), or pySigma's
    pipelines map its category/service to no channel (such a rule would otherwise match every
    event of every channel), or it is a correlation rule or a filter (there are none in the tree
    today);
  - query_failed: SQLite refused the query.

Usage: pysigma_reference.py --rules-root ROOT --rules DIR... --regression DIR [--probes DIR]
--out FILE.json (rule DIRs relative to ROOT, as the rule files in the output).
"""

import argparse
import functools
import importlib.metadata
import json
import os
import re
import sqlite3
import sys
import time

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.pipelines.sysmon import sysmon_pipeline
from sigma.pipelines.windows import windows_logsource_pipeline
from sigma.policy.profiles import TrustedPolicy

from probes import probe_events

TABLE = "logs"
FULLTEXT = "fulltext"


def versions():
    out = {}
    for dist in ("pySigma", "pySigma-backend-sqlite", "pySigma-pipeline-sysmon",
                 "pySigma-pipeline-windows"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    out["python"] = sys.version.split()[0]
    out["sqlite"] = sqlite3.sqlite_version
    return out


# --- events -----------------------------------------------------------------------------------

def json_documents(text):
    """The JSON documents of an evtx_dump file, one after another."""
    decoder = json.JSONDecoder()
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return
        doc, i = decoder.raw_decode(text, i)
        yield doc


def scalar_text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return str(v)


def flatten_event(doc):
    """[(name, text)] of one evtx_dump document, in the table's order (see the module doc)."""
    event = doc.get("Event", doc)
    fields = []
    system = event.get("System") or {}
    for key, v in system.items():
        if isinstance(v, dict):
            if "#text" in v:
                fields.append((key, scalar_text(v["#text"])))
            for attr, av in (v.get("#attributes") or {}).items():
                fields.append((f"{key}_{attr}", scalar_text(av)))
        elif not isinstance(v, list):
            fields.append((key, scalar_text(v)))

    def leaves(name, v):
        if isinstance(v, dict):
            for k, child in v.items():
                if k == "#attributes":
                    continue
                yield from leaves(name if k == "#text" else k, child)
        elif isinstance(v, list):
            for child in v:
                yield from leaves(name, child)
        else:
            yield name.replace(" ", ""), scalar_text(v)

    for section in ("EventData", "UserData"):
        data = event.get(section)
        if isinstance(data, dict):
            for k, v in data.items():
                if k == "#attributes":
                    continue
                if section == "EventData" and k == "Data":
                    # The unnamed <Data> elements: SigmaHQ's `Data` field is "the container for
                    # the event data as a whole" (their rules' own words), so all of them, one a line.
                    texts = [t for _, t in leaves(k, v) if t is not None]
                    if texts:
                        fields.append(("Data", "\n".join(texts)))
                    continue
                fields.extend(leaves(k, v))
    return [(k, v) for k, v in fields if v is not None]


def load_events(corpus, directory):
    """[(corpus, relative file, index, {lowercase name: (name, text)}, fulltext)], by file."""
    events = []
    paths = []
    for root, _, files in os.walk(directory):
        paths.extend(os.path.join(root, f) for f in files if f.endswith(".json"))
    for path in sorted(paths):
        rel = os.path.relpath(path, directory)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for i, doc in enumerate(json_documents(text)):
            row = {}
            for name, value in flatten_event(doc):
                row.setdefault(name.lower(), (name, value))  # the first of a name wins
            fulltext = "\n".join(v for _, v in row.values())
            events.append((corpus, rel, i, row, fulltext))
    return events


# --- rules ------------------------------------------------------------------------------------

def rule_files(root, dirs):
    for d in dirs:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in files:
                if f.endswith((".yml", ".yaml")):
                    yield os.path.relpath(os.path.join(dirpath, f), root)


def logsource_text(ls):
    return ", ".join(f"{k} {getattr(ls, k)}" for k in ("product", "category", "service")
                     if getattr(ls, k, None))


def convert_rules(root, dirs, backend, probes):
    """[{id, title, file, status, reason, queries, fields}] for every rule document; each Windows
    rule's probe events (probes.py) are added to `probes` ({rule file: [(detection, doc)]}) before
    the pipelines change the rule."""
    rules = []
    for rel in sorted(rule_files(root, dirs)):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        try:
            collection = SigmaCollection.from_yaml(
                text, collect_errors=True, source=SigmaRuleLocation(rel), policy=TrustedPolicy)
        except Exception as e:  # pylint: disable=broad-except
            rules.append({"id": None, "title": None, "file": rel, "status": "not_converted",
                          "reason": f"{type(e).__name__}: {e}"})
            continue
        for rule in collection.rules:
            entry = {"id": str(rule.id) if getattr(rule, "id", None) else None,
                     "title": rule.title, "file": rel}
            rules.append(entry)
            if isinstance(rule, (SigmaCorrelationRule, SigmaFilter)):
                entry.update(status="excluded", reason=f"{type(rule).__name__}: not compared")
                continue
            if rule.errors:
                entry.update(status="not_converted",
                             reason="; ".join(f"{type(e).__name__}: {e}" for e in rule.errors))
                continue
            ls = rule.logsource
            if (ls.product or "").lower() != "windows":
                entry.update(status="excluded",
                             reason=f"logsource {logsource_text(ls) or 'empty'}: not a Windows "
                                    "event log")
                continue
            if probes is not None:
                probes.setdefault(rel, []).extend(probe_events(rule))
            try:
                queries = backend.convert_rule(rule)
            except (SigmaError, NotImplementedError, ValueError, TypeError) as e:
                entry.update(status="not_converted", reason=f"{type(e).__name__}: {e}")
                continue
            mapped = any(i.startswith("windows_logsource_") for i in rule.applied_processing_items)
            if (ls.category or ls.service) and not mapped:
                entry.update(status="excluded",
                             reason=f"logsource {logsource_text(ls)}: pySigma's sysmon/windows "
                                    "pipelines map it to no channel")
                continue
            if not queries:
                entry.update(status="not_converted", reason="no query")
                continue
            entry.update(status="converted", reason=None, queries=queries,
                         fields=backend.required_fields(rule))
    return rules


def write_probes(probes, directory):
    """Each rule file's probe events as an evtx_dump file (its path, .json for .yml), and beside
    the directory DIRECTORY.index.json: per file, what each event was made from."""
    index = {}
    for rel, docs in sorted(probes.items()):
        if not docs:
            continue
        out = os.path.join(directory, os.path.splitext(rel)[0] + ".json")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            for _, doc in docs:
                json.dump(doc, f, indent=1)
                f.write("\n")
        index[os.path.relpath(out, directory)] = [what for what, _ in docs]
    with open(directory + ".index.json", "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)


# --- evaluation -------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def compiled(pattern):
    return re.compile(pattern)


def regexp(pattern, value):
    """SQLite's `value REGEXP pattern`: Python's re.search; false for NULL."""
    if value is None or pattern is None:
        return False
    return compiled(pattern).search(str(value)) is not None


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def evaluate(rules, events):
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, regexp, deterministic=True)
    columns = {}  # lowercase -> spelling
    for _, _, _, row, _ in events:
        for low, (name, _) in row.items():
            columns.setdefault(low, name)
    for r in rules:
        for name in r.get("fields", []):
            columns.setdefault(name.lower(), name)
    for reserved in ("corpus", "file", "idx", FULLTEXT):
        columns.pop(reserved, None)
    names = sorted(columns.values(), key=str.lower)
    db.execute(f"CREATE TABLE {TABLE} (corpus TEXT, file TEXT, idx INTEGER, "
               f"{FULLTEXT} TEXT COLLATE NOCASE"
               + "".join(f", {quote(n)} TEXT COLLATE NOCASE" for n in names) + ")")
    placeholders = ",".join("?" * (len(names) + 4))
    for corpus, rel, i, row, fulltext in events:
        values = [row.get(n.lower(), (None, None))[1] for n in names]
        db.execute(f"INSERT INTO {TABLE} VALUES ({placeholders})",
                   [corpus, rel, i, fulltext] + values)
    # Nearly every query starts "Channel='...' AND (EventID=... AND ...": an index makes each
    # one a seek instead of a scan.
    if "channel" in columns and "eventid" in columns:
        db.execute(f"CREATE INDEX by_channel ON {TABLE} "
                   f"({quote(columns['channel'])}, {quote(columns['eventid'])})")
    by_event = {(c, rel, i): [] for c, rel, i, _, _ in events}
    prefix = f"SELECT * FROM {TABLE} WHERE "
    for r in rules:
        if r["status"] != "converted":
            continue
        hits = set()
        try:
            for q in r["queries"]:
                if not q.startswith(prefix):
                    raise ValueError(f"unexpected query shape: {q[:80]}")
                sql = f"SELECT corpus, file, idx FROM {TABLE} WHERE " + q[len(prefix):]
                hits.update(db.execute(sql).fetchall())
        except (sqlite3.Error, ValueError, re.error) as e:
            r.update(status="query_failed", reason=f"{type(e).__name__}: {e}")
            continue
        for key in hits:
            by_event[key].append(r["id"])
    return [{"corpus": c, "file": rel, "event": i, "rules": sorted(by_event[(c, rel, i)])}
            for c, rel, i, _, _ in events]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules-root", required=True, help="the rule paths are relative to it")
    ap.add_argument("--rules", action="append", required=True, help="a rule directory (repeat)")
    ap.add_argument("--regression", required=True, help="the regression_data directory")
    ap.add_argument("--probes", help="write the probe events (probes.py) here, their index to "
                    "PROBES.index.json, and evaluate them too")
    ap.add_argument("--out", required=True, help="the reference matrix, JSON")
    args = ap.parse_args()

    started = time.monotonic()
    backend = sqliteBackend(sysmon_pipeline() + windows_logsource_pipeline(),
                            fulltext_field=FULLTEXT, table=TABLE)
    probes = {} if args.probes else None
    rules = convert_rules(args.rules_root, args.rules, backend, probes)
    converted_at = time.monotonic()
    events = load_events("regression", args.regression)
    if args.probes:
        write_probes(probes, args.probes)
        events += load_events("probes", args.probes)
    matrix = evaluate(rules, events)
    for r in rules:
        r.pop("fields", None)
    out = {
        "versions": versions(),
        "pipelines": ["sysmon_pipeline", "windows_logsource_pipeline"],
        "seconds": {"convert": round(converted_at - started, 1),
                    "evaluate": round(time.monotonic() - converted_at, 1)},
        "rules": rules,
        "events": matrix,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    counts = {}
    for r in rules:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(f"pysigma_reference: {len(rules)} rules ({counts}), {len(events)} events, "
          f"{out['seconds']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
