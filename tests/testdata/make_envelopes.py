#!/usr/bin/env python3
"""Renders one incident (the demo's MSExchangeOWAAppPool incident, times in whole seconds
because Fluent Bit's TimeCreated has 1 s resolution) in every forwarder envelope faultline reads,
following the field layouts documented in ../shared/docs/windows-events.md and the real samples
in ../shared/fixtures/real/. Run from the repository root; writes tests/testdata/envelopes/.
The envelope test expects identical normalized events and identical alerts from every file."""
import datetime as dt
import json
import os
from zoneinfo import ZoneInfo

HOST = "EXCH01.contoso.local"
POOL = "MSExchangeOWAAppPool"
WAS = "Microsoft-Windows-WAS"
T0 = dt.datetime(2026, 3, 10, 9, 14, 2, tzinfo=dt.timezone.utc)
APPERR_DATA = [
    ("AppName", "w3wp.exe"), ("AppVersion", "10.0.17763.1"), ("AppTimeStamp", "cfb8a3e1"),
    ("ModuleName", "clr.dll"), ("ModuleVersion", "4.8.4645.0"), ("ModuleTimeStamp", "6412a2b9"),
    ("ExceptionCode", "c00000fd"), ("FaultingOffset", "0000000000103f6e"), ("ProcessId", "0x10d8"),
    ("ProcessCreationTime", "0x1dab2c6f0e4a1b2"), ("AppPath", r"c:\windows\system32\inetsrv\w3wp.exe"),
    ("ModulePath", r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\clr.dll"),
    ("IntegratorReportId", "3f1c2a9e-6b0d-4d8e-9f1a-2c7e5b4d8a10"),
]

def was_msg(eid, pid):
    if eid == 5009:
        return (f"A process serving application pool '{POOL}' terminated unexpectedly. The process "
                f"id was '{pid}'. The process exit code was '0x800703e9'.")
    if eid == 5011:
        return (f"A process serving application pool '{POOL}' suffered a fatal communication error "
                f"with the Windows Process Activation Service. The process id was '{pid}'. The data "
                f"field contains the error number.")
    return (f"Application pool '{POOL}' is being automatically disabled due to a series of failures "
            f"in the process(es) serving that application pool.")

# (seconds after T0, provider, legacy source, id, level, channel, record, named data, inserts, message)
EVENTS = []
EVENTS.append((0, "Application Error", "Application Error", 1000, 2, "Application", 4418201,
               APPERR_DATA,
               # legacy positional layout: app, version, ts, module, version, ts, code, offset,
               # pid (hex, no 0x), start time, app path, module path, report id
               ["w3wp.exe", "10.0.17763.1", "cfb8a3e1", "clr.dll", "4.8.4645.0", "6412a2b9",
                "c00000fd", "0000000000103f6e", "10d8", "01dab2c6f0e4a1b2",
                r"c:\windows\system32\inetsrv\w3wp.exe",
                r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\clr.dll",
                "3f1c2a9e-6b0d-4d8e-9f1a-2c7e5b4d8a10"],
               "Faulting application name: w3wp.exe, version: 10.0.17763.1\nException code: 0xc00000fd\n"
               "Faulting process id: 0x10d8"))
EVENTS.append((1, WAS, "WAS", 5009, 3, "System", 912340, [("AppPoolID", POOL), ("ProcessID", "4312")],
               [POOL, "4312", "800703e9"], was_msg(5009, 4312)))
for i, (sec, pid) in enumerate([(29, 7120), (56, 7344), (87, 7560), (113, 7788)]):
    EVENTS.append((sec, WAS, "WAS", 5011, 3, "System", 912344 + i,
                   [("AppPoolID", POOL), ("ProcessID", str(pid)), ("Binary", "6D000780")],
                   [POOL, str(pid)], was_msg(5011, pid)))
EVENTS.append((113, WAS, "WAS", 5002, 2, "System", 912362, [("AppPoolID", POOL)], [POOL],
               was_msg(5002, 0)))

LEVEL_NAME = {2: "error", 3: "warning", 4: "information"}

def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")

def winlogbeat(ev, version8=True):
    sec, prov, _, eid, lvl, chan, rec, named, _, msg = ev
    t = T0 + dt.timedelta(seconds=sec)
    return {"@timestamp": iso(t), "agent": {"type": "winlogbeat", "version": "8.11.1" if version8 else "7.10.2"},
            "event": {"code": str(eid) if version8 else eid, "kind": "event", "provider": prov},
            "host": {"name": "wec01.contoso.local"}, "log": {"level": LEVEL_NAME[lvl]}, "message": msg,
            "winlog": {"channel": chan, "computer_name": HOST, "event_data": dict(named),
                       "event_id": str(eid) if version8 else eid, "process": {"pid": 0},
                       "provider_name": prov, "record_id": rec}}

def winlogbeat6(ev):
    sec, prov, _, eid, lvl, chan, rec, named, _, msg = ev
    t = T0 + dt.timedelta(seconds=sec)
    return {"@timestamp": iso(t), "beat": {"hostname": "wec01", "name": "wec01", "version": "6.8.23"},
            "computer_name": HOST, "event_data": dict(named), "event_id": eid,
            "level": LEVEL_NAME[lvl].capitalize(), "log_name": chan, "message": msg,
            "record_number": str(rec), "source_name": prov, "type": "wineventlog"}

def nxlog(ev, enterprise):
    sec, prov, _, eid, lvl, chan, rec, named, _, msg = ev
    t = T0 + dt.timedelta(seconds=sec)
    if enterprise:
        event_time = t.astimezone(ZoneInfo("Europe/Berlin")).isoformat(timespec="microseconds")
    else:  # CE: the forwarding host's local time, no zone
        event_time = t.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M:%S")
    d = {"EventTime": event_time, "Hostname": HOST, "Keywords": "36028797018963968",
         "EventType": {2: "ERROR", 3: "WARNING"}[lvl], "SeverityValue": {2: 4, 3: 3}[lvl],
         "Severity": {2: "ERROR", 3: "WARNING"}[lvl], "EventID": eid, "SourceName": prov,
         "Version": 0, "TaskValue": 0, "OpcodeValue": 0, "RecordNumber": rec}
    if enterprise:
        d["ExecutionProcessID"] = 0
        d["ExecutionThreadID"] = 0
    else:
        d["ProcessID"] = 0  # the event header's pid; CE keeps this first value of the key
        d["ThreadID"] = 0
    d["Channel"] = chan
    d["Message"] = msg
    for k, v in named:
        if k == "Binary" or k in d:
            continue  # CE drops a repeated key (the worker's ProcessID) and the binary data
        d[k] = v
    d["EventReceivedTime"] = event_time
    d["SourceModuleName"] = "eventlog"
    d["SourceModuleType"] = "im_msvistalog"
    return d

def fluentbit_winevtlog(ev, as_map):
    sec, prov, _, eid, lvl, chan, rec, named, inserts, msg = ev
    t = T0 + dt.timedelta(seconds=sec)
    local = t.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    d = {"@timestamp": t.timestamp() + 2.25,  # the read time, a float: not the event time
         "ProviderName": prov, "ProviderGuid": "", "Qualifiers": "", "EventID": eid, "Version": 0,
         "Level": lvl, "Task": 0, "Opcode": 0, "Keywords": "0x80000000000000",
         "TimeCreated": local.strftime("%Y-%m-%d %H:%M:%S %z"), "EventRecordID": rec,
         "ActivityID": "", "RelatedActivityID": "", "ProcessID": 0, "ThreadID": 0,
         "Channel": chan, "Computer": HOST, "UserID": "", "Message": msg,
         # insertion strings are strings or numbers
         "StringInserts": [int(v) if v.isdigit() and len(v) < 6 else v for v in inserts]}
    if as_map:
        d["EventData"] = {k: v for k, v in named if k != "Binary"}
    return d

def fluentbit_winlog(ev):
    sec, prov, legacy, eid, lvl, chan, rec, _, inserts, msg = ev
    t = T0 + dt.timedelta(seconds=sec)
    local = t.astimezone(dt.timezone(dt.timedelta(hours=-7))).strftime("%Y-%m-%d %H:%M:%S %z")
    return {"RecordNumber": rec, "TimeGenerated": local, "TimeWritten": local, "EventID": eid,
            "Qualifiers": 32768, "EventType": LEVEL_NAME[lvl].capitalize(), "EventCategory": 0,
            "Channel": chan, "SourceName": legacy, "ComputerName": HOST, "Data": "", "Sid": "",
            "Message": msg, "StringInserts": inserts}

def xml(ev):
    sec, prov, legacy, eid, lvl, chan, rec, named, inserts, msg = ev
    t = T0 + dt.timedelta(seconds=sec)
    esc = lambda s: (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                     .replace("'", "&apos;").replace("\n", "&#10;"))  # one event per line
    source = f' EventSourceName="{legacy}"' if legacy != prov else ""
    data = "".join(f"<Binary>{v}</Binary>" if k == "Binary" else f'<Data Name="{k}">{esc(v)}</Data>'
                   for k, v in named)
    return (f'<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
            f'<Provider Name="{prov}"{source}/><EventID Qualifiers="0">{eid}</EventID><Level>{lvl}</Level>'
            f'<TimeCreated SystemTime="{t.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")}"/>'
            f"<EventRecordID>{rec}</EventRecordID><Execution ProcessID=\"0\" ThreadID=\"0\"/>"
            f"<Channel>{chan}</Channel><Computer>{HOST}</Computer></System><EventData>{data}</EventData>"
            f"<RenderingInfo Culture=\"en-US\"><Message>{esc(msg)}</Message></RenderingInfo></Event>")

def compact(d):
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)

RENDERINGS = {
    "winlogbeat8": lambda e: compact(winlogbeat(e, True)),
    "winlogbeat7": lambda e: compact(winlogbeat(e, False)),
    "winlogbeat6": lambda e: compact(winlogbeat6(e)),
    "nxlog_ce": lambda e: compact(nxlog(e, False)),
    "nxlog_ee": lambda e: compact(nxlog(e, True)),
    "fluentbit_winevtlog": lambda e: compact(fluentbit_winevtlog(e, False)),
    "fluentbit_winevtlog_map": lambda e: compact(fluentbit_winevtlog(e, True)),
    "fluentbit_winlog": lambda e: compact(fluentbit_winlog(e)),
    "logstash_winlogbeat": lambda e: compact(dict(winlogbeat(e, True), **{"@version": "1", "tags": ["beats_input_codec_plain_applied"]})),
    "logstash_plain": lambda e: compact({"@timestamp": "2026-03-10T09:20:00.000Z", "@version": "1",
                                         "message": compact(winlogbeat(e, True))}),
    "xml_in_event_original": lambda e: compact({"@timestamp": "2026-03-10T09:20:00.000Z",
                                                "event": {"original": xml(e)}}),
    "xml_bare": xml,
}

if __name__ == "__main__":
    out = os.path.join("tests", "testdata", "envelopes")
    os.makedirs(out, exist_ok=True)
    for name, render in RENDERINGS.items():
        with open(os.path.join(out, name + ".jsonl"), "w") as f:
            for ev in EVENTS:
                f.write(render(ev) + "\n")
