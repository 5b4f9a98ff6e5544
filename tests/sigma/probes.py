"""Probe events for the Sigma cross-check: events made from the rules themselves.

SigmaHQ's regression data is one or a few events per rule for a tenth of the rules: most rules,
and most of what a matcher must get right (modifiers, wildcards, keyword searches, case, several
channels, regexes), never meet an event there. So each Windows rule also gives a few events made
from its own detection, evtx_dump JSON like the regression data, which every rule then meets on
both sides (faultline and the pySigma reference): whether a probe matches its own rule does not
matter, only that both evaluators say the same of it.

For each search identifier of a rule, two events:
  - variant 0: the first value of every list, the first map of a list of maps, the first channel
    and EventID the logsource maps to;
  - variant 1: the second value / map / channel / EventID where there is one, and every letter of
    every value in the other ASCII case (Sigma's case-insensitive matching; |re and |cased are
    case-sensitive);
and one event ("all") with the fields of every search identifier whose name does not start with
"filter", which is what a rule "selection and selection2 and not filter" matches.

A value becomes text as the smallest string it matches: `*` nothing, `?` one "x", modifiers as
pySigma expanded them (|contains is "*v*", |windash and |base64offset one of their expansions,
|all the values joined by spaces), a |cidr the network's address, a |re a string made from its
pattern (sample_regex), a |fieldref the same text in both fields; `null` and |exists: false leave
the field out. EventID, Channel, Computer and Provider_Name go to System, every other field to
EventData; keywords (field-less values) to an EventData item named Payload.
"""

import re

from sigma.pipelines.common import windows_logsource_mapping
from sigma.pipelines.sysmon.sysmon import sysmon_generic_logsource_eventid_mapping
from sigma.pipelines.windows.windows import windows_generic_category_channel_mapping
from sigma.rule.detection import SigmaDetection
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SpecialChars,
)

try:  # CPython's own regex parser (3.11+); without it, regexes give no value
    import re._constants as sre_c
    import re._parser as sre_p
except ImportError:  # pragma: no cover
    sre_c = sre_p = None

SYSMON = "Microsoft-Windows-Sysmon/Operational"
SYSTEM_FIELDS = ("EventID", "Channel", "Computer")
SWAP = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def as_list(v):
    return v if isinstance(v, list) else [v]


def routes(logsource):
    """[(channel, [event ids], provider)] the rule's logsource maps to, or None."""
    category, service = logsource.category, logsource.service
    if category in sysmon_generic_logsource_eventid_mapping:
        ids = as_list(sysmon_generic_logsource_eventid_mapping[category])
        return [(SYSMON, ids, "Microsoft-Windows-Sysmon")]
    if category in windows_generic_category_channel_mapping:
        m = windows_generic_category_channel_mapping[category]
        return [(c, [m["EventID"]], "PowerShell")
                for c in as_list(windows_logsource_mapping[m["service"]])]
    if category:
        return None
    if service:
        if service not in windows_logsource_mapping:
            return None
        return [(c, [], "Probe") for c in as_list(windows_logsource_mapping[service])]
    return [("Security", [], "Probe")]  # product windows alone: any channel


def sample_regex(pattern):
    """A short string `pattern` matches (most of the time: lookarounds and back-references are
    not honoured), or None."""
    if sre_p is None:
        return None
    try:
        tree = sre_p.parse(pattern)
    except Exception:  # pylint: disable=broad-except
        return None
    c = sre_c
    groups = {}

    def category(cat):
        return {c.CATEGORY_DIGIT: "1", c.CATEGORY_NOT_DIGIT: "a", c.CATEGORY_SPACE: " ",
                c.CATEGORY_NOT_SPACE: "a", c.CATEGORY_WORD: "a", c.CATEGORY_NOT_WORD: " ",
                c.CATEGORY_LINEBREAK: "\n", c.CATEGORY_NOT_LINEBREAK: "a"}.get(cat, "a")

    def one_of(items):
        negate = any(op == c.NEGATE for op, _ in items)
        if negate:
            excluded = set()
            for op, av in items:
                if op == c.LITERAL:
                    excluded.add(chr(av))
                elif op == c.RANGE:
                    excluded.update(chr(x) for x in range(av[0], min(av[1], 0x7f) + 1))
            for ch in "x_0 aZ-.":
                if ch not in excluded:
                    return ch
            return "~"
        for op, av in items:
            if op == c.LITERAL:
                return chr(av)
            if op == c.RANGE:
                return chr(av[0])
            if op == c.CATEGORY:
                return category(av)
        return "a"

    def gen(seq):
        out = []
        for op, av in seq:
            if op == c.LITERAL:
                out.append(chr(av))
            elif op == c.NOT_LITERAL:
                out.append("x" if chr(av) != "x" else "y")
            elif op == c.ANY:
                out.append("a")
            elif op == c.IN:
                out.append(one_of(av))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
                low, _, sub = av
                out.append(gen(sub) * low)
            elif op == c.SUBPATTERN:
                text = gen(av[-1])
                if av[0]:
                    groups[av[0]] = text
                out.append(text)
            elif op == getattr(c, "ATOMIC_GROUP", None):
                out.append(gen(av))
            elif op == c.BRANCH:
                out.append(gen(av[1][0]))
            elif op == c.GROUPREF:
                out.append(groups.get(av, ""))
            elif op == c.CATEGORY:
                out.append(category(av))
            # AT (anchors), ASSERT, ASSERT_NOT, GROUPREF_EXISTS: nothing
        return "".join(out)

    try:
        return gen(tree)
    except Exception:  # pylint: disable=broad-except
        return None


def value_text(v, pick):
    """The text (or number) standing for one Sigma value, or None for no value."""
    if isinstance(v, SigmaString):
        out = []
        for part in v.s:
            if isinstance(part, str):
                out.append(part)
            elif part == SpecialChars.WILDCARD_SINGLE:
                out.append("x")
            elif part != SpecialChars.WILDCARD_MULTI:
                out.append(str(part))  # a placeholder's name
        return "".join(out)
    if isinstance(v, SigmaBool):
        return "true" if v.boolean else "false"
    if isinstance(v, SigmaNumber):
        return v.number
    if isinstance(v, SigmaExpansion):
        return value_text(v.values[pick % len(v.values)], pick) if v.values else None
    if isinstance(v, SigmaCIDRExpression):
        return str(v.network.network_address)
    if isinstance(v, SigmaRegularExpression):
        return sample_regex(str(v.regexp))
    if isinstance(v, SigmaExists):
        return "x" if v.exists else None
    return None  # SigmaNull, comparisons, query expressions


def cased(text, pick, values):
    """Variant 1 swaps the case of what Sigma matches case-insensitively (not |re, not |cased)."""
    if pick == 0 or not isinstance(text, str):
        return text
    if any(isinstance(v, (SigmaRegularExpression, SigmaCasedString)) for v in values):
        return text
    return text.translate(SWAP)


def collect(detection, pick, fields, keywords):
    """Adds the fields of one search identifier (its pick-th alternative) to `fields`."""
    alternatives = detection.item_linking.__name__ == "ConditionOR"
    items = detection.detection_items
    if alternatives and items:
        items = [items[pick % len(items)]]
    for item in items:
        if isinstance(item, SigmaDetection):
            collect(item, pick, fields, keywords)
            continue
        if not item.value:
            continue
        if any(isinstance(v, SigmaFieldReference) for v in item.value):
            ref = item.value[0]
            text = fields.get(ref.field, fields.get(item.field, "fieldref"))
            fields.setdefault(ref.field, text)
            fields.setdefault(item.field, text)
            continue
        if any(isinstance(v, SigmaNull) for v in item.value):
            continue
        if item.value_linking.__name__ == "ConditionAND":
            texts = [value_text(v, pick) for v in item.value]
            if any(t is None for t in texts):
                continue
            text = " ".join(str(t) for t in texts)
        else:
            text = value_text(item.value[pick % len(item.value)], pick)
            if text is None:
                continue
        text = cased(text, pick, item.value)
        if item.field is None:
            keywords.append(str(text))
        else:
            fields.setdefault(item.field, text)


def make_event(fields, keywords, channel, event_id, provider):
    system = {
        "Provider": {"#attributes": {"Name": provider}},
        "EventID": event_id,
        "Channel": channel,
        "Computer": "probe.example",
        "TimeCreated": {"#attributes": {"SystemTime": "2026-01-01T00:00:00.000000Z"}},
        "EventRecordID": 1,
    }
    data = {}
    for name, text in fields.items():
        if name in SYSTEM_FIELDS:
            system[name] = text
        elif name == "Provider_Name":
            system["Provider"]["#attributes"]["Name"] = text
        else:
            data[name] = text
    if keywords:
        data["Payload"] = " ".join(keywords)
    return {"Event": {"System": system, "EventData": data}}


def probe_events(rule):
    """[(description, evtx_dump document)] for one parsed, not yet processed, Windows rule."""
    places = routes(rule.logsource)
    if places is None:
        return []
    rule_id = str(rule.id) if rule.id else rule.title
    out = []

    def add(what, names, pick):
        fields, keywords = {}, []
        for name in names:
            collect(rule.detection.detections[name], pick, fields, keywords)
        channel, ids, provider = places[pick % len(places)]
        event_id = ids[pick % len(ids)] if ids else 1
        out.append(({"rule": rule_id, "probe": what},
                    make_event(fields, keywords, channel, event_id, provider)))

    names = list(rule.detection.detections)
    for name in names:
        for pick in (0, 1):
            add(f"{name}/{pick}", [name], pick)
    positive = [n for n in names if not n.lower().startswith("filter")]
    if len(positive) > 1 or len(positive) < len(names):
        add("all/0", positive, 0)
    return out


__all__ = ["probe_events", "sample_regex", "re"]
