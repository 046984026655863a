#!/usr/bin/python3
"""make lint: cppcheck and clang-tidy over src/, src/cli/ and
src/cli/replicas/ (both builds' files: the MPI one with mpicc's flags,
which the Makefile passes on).

    tests/lint/run.py BUILD_DIR COMPILE_FLAGS...

clang-tidy reads its checks from .clang-tidy and compiles each file with
the flags given (the Makefile's CLAE_CFLAGS); cppcheck runs with the
severities and suppressions below. A finding fails the run unless
tests/lint/accepted names it, with a reason. The run's full reports are
kept in BUILD_DIR/lint/.
"""
import concurrent.futures
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ACCEPTED = os.path.join("tests", "lint", "accepted")

# cppcheck: warnings, portability, performance and style, less two style
# ids that are this code's idioms rather than mistakes:
# - variableScope: a variable that could be declared in an inner block;
#   declaring at the top of a block is a choice, not a bug.
# Every other style finding (unreadVariable, knownConditionTrueFalse, ...)
# counts; the status = CLAE_SUCCESS that every cleanup ladder starts with
# is accepted in tests/lint/accepted.
CPPCHECK = ["cppcheck", "--quiet", "--std=c11", "--inline-suppr",
            "--enable=warning,style,performance,portability",
            "--suppress=missingIncludeSystem", "--suppress=variableScope",
            "-DCL_TARGET_OPENCL_VERSION=120", "-Iinclude", "-Isrc",
            "--template={file}:{line}: {severity}: {message} [{id}]"]


def rel(path):
    path = os.path.normpath(path)
    return os.path.relpath(path, ROOT) if os.path.isabs(path) else path


def run_cppcheck(out_dir):
    p = subprocess.run(CPPCHECK + ["src", "src/cli", "src/cli/replicas"],
                       cwd=ROOT,
                       capture_output=True, text=True)
    with open(os.path.join(out_dir, "cppcheck.txt"), "w") as f:
        f.write(p.stdout + p.stderr)
    found = []
    for line in (p.stdout + p.stderr).splitlines():
        m = re.match(r"^(.+?):(\d+): (\w+): (.*) \[(\w+)\]$", line)
        if m:
            found.append((rel(m[1]), int(m[2]), [m[5]],
                          "cppcheck %s: %s" % (m[3], m[4])))
        elif line.strip():
            found.append(("cppcheck", 0, ["cppcheck"], line))
    return found


def tidy_one(path, flags, header_filter):
    p = subprocess.run(["clang-tidy", "--quiet", "--header-filter=" + header_filter,
                        path, "--"] + flags,
                       cwd=ROOT, capture_output=True, text=True)
    return path, p.returncode, p.stdout, p.stderr


def run_clang_tidy(out_dir, flags):
    files = sorted(glob.glob(os.path.join(ROOT, "src", "*.c")) +
                   glob.glob(os.path.join(ROOT, "src", "cli", "*.c")) +
                   glob.glob(os.path.join(ROOT, "src", "cli", "replicas", "*.c")))
    header_filter = "^" + re.escape(ROOT) + "/(src|include)/"
    found, seen = [], set()
    with open(os.path.join(out_dir, "clang-tidy.txt"), "w") as log, \
            concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        jobs = [pool.submit(tidy_one, f, flags, header_filter) for f in files]
        for job in jobs:
            path, rc, out, err = job.result()
            log.write("== %s (exit %d)\n%s\n" % (rel(path), rc, out))
            for line in out.splitlines():
                m = re.match(r"^(.+?):(\d+):\d+: (warning|error): (.*) \[([\w.,-]+)\]$", line)
                if not m:
                    continue
                key = (rel(m[1]), int(m[2]), m[5])
                if key in seen:  # a header's finding, once per file
                    continue
                seen.add(key)
                found.append((key[0], key[1], m[5].split(","),
                              "clang-tidy %s: %s" % (m[3], m[4])))
            if rc != 0 and not out.strip():
                found.append((rel(path), 0, ["clang-tidy"],
                              "clang-tidy failed: " + err.strip()[-500:]))
    return found


def load_accepted():
    """Entries 'FILE | CHECK | TEXT | WHY': a finding of CHECK in FILE (or
    any file for *) on a line containing TEXT, accepted for the reason."""
    entries = []
    with open(os.path.join(ROOT, ACCEPTED)) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = [p.strip() for p in line.split(" | ")]
            if len(parts) != 4 or not all(parts):
                sys.exit("%s:%d: want 'FILE | CHECK | TEXT | WHY'" % (ACCEPTED, n))
            entries.append({"line": n, "file": parts[0], "check": parts[1],
                            "text": parts[2], "used": 0})
    return entries


def source_line(path, n):
    try:
        with open(os.path.join(ROOT, path), errors="replace") as f:
            for i, line in enumerate(f, 1):
                if i == n:
                    return line
    except OSError:
        pass
    return ""


def main():
    out_dir = os.path.join(ROOT, sys.argv[1], "lint")
    flags = sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)
    findings = run_cppcheck(out_dir) + run_clang_tidy(out_dir, flags)
    accepted = load_accepted()
    failing = []
    for path, n, checks, message in sorted(findings):
        text = source_line(path, n)
        match = next((e for e in accepted
                      if e["file"] in ("*", path) and e["check"] in checks
                      and e["text"] in text), None)
        if match:
            match["used"] += 1
        else:
            failing.append("%s:%d: %s [%s]" % (path, n, message, ",".join(checks)))
    for e in accepted:
        if not e["used"]:
            print("lint: %s:%d matches nothing now (remove it?)" % (ACCEPTED, e["line"]))
    for f in failing:
        print(f)
    print("lint: %d findings, %d accepted (%s); reports in %s" %
          (len(failing), len(findings) - len(failing), ACCEPTED, rel(out_dir)))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
