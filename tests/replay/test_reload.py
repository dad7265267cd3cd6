#!/usr/bin/python3
"""Hot reload of the classes while a replay runs: no flow changes its verdict, a broken file is
refused and the old classes stay.

Usage: test_reload.py TCP_ROUTED TCP_ROUTEGEN CLASSES_TOML
The expectation is the replay of the same capture without any reload (same classes file): a
reload that lost or misclassified a packet would change flows.jsonl.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time


def replay(routed, cap, out, classes, *extra):
    p = subprocess.run([routed, "replay", cap, "--report-dir", out, "--classes", classes, "-q", *extra],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        sys.exit(f"FAIL: replay {' '.join(extra)} exited {p.returncode}: {p.stderr}")
    with open(os.path.join(out, "flows.jsonl")) as f:
        flows = f.read()
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    return flows, summary, p.stderr


def main():
    routed, gen, classes_src = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "agents.pcap")
        subprocess.run([gen, "-o", cap, "--agents", "200", "--flows", "40000", "--duration", "120", "--seed", "11"],
                       check=True, capture_output=True, timeout=120)
        classes = os.path.join(tmp, "classes.toml")
        shutil.copy(classes_src, classes)
        base, base_summary, _ = replay(routed, cap, os.path.join(tmp, "base"), classes)
        print(f"baseline: {base_summary['flows']} flows, classes {sorted(base_summary['classes'])}")

        failures = []
        for workers in ("1", "2"):
            flows, summary, _ = replay(routed, cap, os.path.join(tmp, f"reload{workers}"), classes,
                                       "--reload-interval", "0.02", "-w", workers)
            n = summary["processing"]["class_reloads"]
            print(f"workers {workers}: {n} reloads applied during the replay")
            if n < 3:
                failures.append(f"workers {workers}: only {n} reloads happened; the test proves nothing")
            if flows != base:
                failures.append(f"workers {workers}: flows.jsonl differs from the replay without reloads")

        # A broken file, swapped in and out while the replay runs, is refused each time.
        good = open(classes).read()
        broken = good + "\n[[class]]\nname = \"broken\"\n[[class.rule]]\non = \"c2s\"\nregex = \"(unclosed\"\n"
        stop = threading.Event()

        def flip():
            i = 0
            while not stop.is_set():
                tmpname = classes + ".new"
                with open(tmpname, "w") as f:
                    f.write(broken if i % 2 == 0 else good)
                os.replace(tmpname, classes)  # atomic: the reader sees one version or the other
                i += 1
                time.sleep(0.05)

        # Start flipping only once the replay has loaded the good file: its ports exist then, and
        # net_pcap has created the output captures.
        out = os.path.join(tmp, "broken")
        proc = subprocess.Popen([routed, "replay", cap, "--report-dir", out, "--classes", classes, "-q",
                                 "--reload-interval", "0.02"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(out, "out", "world.pcap")) and proc.poll() is None:
            if time.time() > deadline:
                proc.kill()
                sys.exit("FAIL: the replay did not start its ports within 120 s")
            time.sleep(0.01)
        t = threading.Thread(target=flip)
        t.start()
        try:
            _, err = proc.communicate(timeout=300)
        finally:
            stop.set()
            t.join()
        if proc.returncode != 0:
            sys.exit(f"FAIL: replay with a flipping classes file exited {proc.returncode}: {err}")
        with open(os.path.join(out, "flows.jsonl")) as f:
            flows = f.read()
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        refused = summary["processing"]["class_reloads_refused"]
        print(f"broken file: {refused} reloads refused, {summary['processing']['class_reloads']} applied")
        if refused < 1:
            failures.append("no reload of the broken file was refused")
        if "reload refused" not in err or "class 'broken'" not in err or "classes.toml:" not in err:
            failures.append(f"the refusal does not name the file and class: {err[:300]}")
        if flows != base:
            failures.append("flows.jsonl changed while a broken file was being refused")
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("ok: reloads changed no verdict; broken files refused")


if __name__ == "__main__":
    main()
