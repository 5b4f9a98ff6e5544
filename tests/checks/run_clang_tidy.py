#!/usr/bin/env python3
"""clang-tidy over the sources of the stages (run by CTest, one test per folder):

  run_clang_tidy.py BUILD_DIR SOURCE_DIR FOLDER [--jobs N]

Checks every non-test .cc under SOURCE_DIR/FOLDER with the checks of SOURCE_DIR/.clang-tidy,
and the project headers those files include. Tests, and the helpers under testing/ folders that
only tests include, are not checked. Exits 1 listing every warning (the config makes each one an
error), 0 when there are none, 77 (skipped) when clang-tidy is not installed.

A file found clean is not checked again while nothing it may depend on changed: the verdict is
kept in $FAULTLINE_CACHE/clang-tidy/ (default ~/.cache/faultline), keyed by the file, its compile
command, every project header and .proto, .clang-tidy, this script, the clang-tidy version and the
installed packages (system headers), so a second run checks only what changed (a header change checks
everything again). Paths are keyed relative to the checkout: every clone shares the verdicts.
"""
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

STAGES = ("core", "ingest", "detect", "sinks", "app")
SKIP_RETURN_CODE = 77


def project_headers_digest(source_dir):
    digest = hashlib.sha256()
    for stage in STAGES + ("proto",):
        for folder, _, files in sorted(os.walk(os.path.join(source_dir, stage))):
            for name in sorted(files):
                if name.endswith((".h", ".proto")):
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, source_dir).encode())
                    with open(path, "rb") as f:
                        digest.update(f.read())
    return digest.hexdigest()


def sources(source_dir, folder):
    found = []
    for root, _, files in os.walk(os.path.join(source_dir, folder)):
        if "testing" in os.path.relpath(root, source_dir).split(os.sep):
            continue
        for name in files:
            if name.endswith(".cc") and not name.endswith(("_test.cc", "_fuzz.cc")):
                found.append(os.path.join(root, name))
    return sorted(found)


def compile_commands(build_dir):
    """Each file's compile command, by its real path."""
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        return {os.path.realpath(os.path.join(c["directory"], c["file"])):
                c.get("command") or " ".join(c.get("arguments", [])) for c in json.load(f)}


def installed_packages():
    """What the system headers come from (an Abseil or simdjson upgrade changes findings)."""
    try:
        return subprocess.run(["dpkg-query", "-W"], stdout=subprocess.PIPE, text=True).stdout
    except FileNotFoundError:
        return ""


def check(tidy, build_dir, source_dir, path):
    # The source dir as given and as resolved: a symlinked checkout names headers either way.
    roots = sorted({re.escape(os.path.abspath(source_dir)), re.escape(os.path.realpath(source_dir))})
    header_filter = "^(" + "|".join(roots) + ")/(" + "|".join(STAGES) + ")/"
    result = subprocess.run(
        [tidy, "-p", build_dir, "--quiet", "--header-filter=" + header_filter,
         # The compile commands are g++'s: clang does not know all of its warning options.
         "--extra-arg=-Wno-unknown-warning-option", path],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    findings = [line for line in result.stdout.splitlines()
                if ": warning: " in line or ": error: " in line]
    if result.returncode != 0 and not findings:
        findings = [f"{path}: clang-tidy failed: {result.stderr.strip()[-2000:]}"]
    return findings


def main():
    args = sys.argv[1:]
    jobs = 1
    if "--jobs" in args:
        i = args.index("--jobs")
        jobs = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    build_dir, source_dir, folder = args
    tidy = shutil.which("clang-tidy")
    if tidy is None:
        print("clang-tidy is not installed (Debian package clang-tidy): skipped")
        return SKIP_RETURN_CODE
    version = subprocess.run([tidy, "--version"], stdout=subprocess.PIPE, text=True).stdout
    with open(os.path.join(source_dir, ".clang-tidy"), "rb") as f:
        config = f.read()
    with open(__file__, "rb") as f:  # how this script checks (its filter, its arguments)
        script = f.read()
    context = hashlib.sha256(version.encode() + config + script
                             + project_headers_digest(source_dir).encode()
                             + installed_packages().encode()).hexdigest()
    commands = compile_commands(build_dir)
    cache_dir = os.path.join(os.environ.get("FAULTLINE_CACHE")
                             or os.path.expanduser("~/.cache/faultline"), "clang-tidy")
    os.makedirs(cache_dir, exist_ok=True)
    roots = sorted({os.path.realpath(source_dir), os.path.abspath(source_dir)}, key=len,
                   reverse=True)

    def relative(text):  # the checkout's own path out of a key: clones share the verdicts
        for root in roots:
            text = re.sub(re.escape(root) + r'(?=[/=\s"]|$)', "<checkout>", text)
        return text

    def key(path):
        command = relative(commands.get(os.path.realpath(path), ""))
        with open(path, "rb") as f:
            return hashlib.sha256(context.encode() + relative(path).encode() + command.encode()
                                  + f.read()).hexdigest()

    todo, cached = [], 0
    files = sources(source_dir, folder)
    if not files:  # a check that checks nothing must not pass
        print(f"clang-tidy {folder}/: no sources found under {source_dir}")
        return 1
    keys = {}  # taken before the check: a file edited meanwhile is not called clean
    for path in files:
        keys[path] = key(path)
        if os.path.exists(os.path.join(cache_dir, keys[path])):
            cached += 1
        else:
            todo.append(path)
    findings = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for path, found in zip(todo, pool.map(
                lambda p: check(tidy, build_dir, source_dir, p), todo)):
            if found:
                findings.extend(found)
            else:
                with open(os.path.join(cache_dir, keys[path]), "w") as f:
                    json.dump({"file": path, "clean": True}, f)
    # A header's warning is reported by every file that includes it: once is enough.
    unique = sorted(set(f.replace(os.path.realpath(source_dir) + "/", "")
                        .replace(os.path.abspath(source_dir) + "/", "") for f in findings))
    print("\n".join(unique))
    print(f"clang-tidy {folder}/: {len(todo)} checked, {cached} unchanged since a clean check, "
          f"{len(unique)} finding(s)")
    return 1 if unique else 0


if __name__ == "__main__":
    sys.exit(main())
