#!/usr/bin/python3
"""The systemd unit in config/systemd/ is valid: `systemd-analyze verify` on a copy whose
ExecStart names the binary just built (the installed path does not exist on a build machine), and
the lines the README promises are there. Skips (77) without systemd-analyze.

Usage: test_systemd_unit.py TCP_ROUTED
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(ROOT, "config", "systemd", "tcp-routed.service")

if shutil.which("systemd-analyze") is None:
    print("SKIP: systemd-analyze is not installed")
    sys.exit(77)
text = open(UNIT).read()
failures = []
for want in ("ExecStart=/usr/local/bin/tcp-routed --config /etc/tcp-route/tcp-route.toml", "Restart=on-failure",
             "RuntimeDirectory=tcp-route", "RuntimeDirectoryMode=0750", "AmbientCapabilities=", "hugepages",
             "ExecReload=/bin/kill -HUP $MAINPID"):
    if want not in text:
        failures.append(f"missing: {want}")
with tempfile.TemporaryDirectory() as tmp:
    copy = os.path.join(tmp, "tcp-routed.service")
    with open(copy, "w") as f:
        f.write(text.replace("/usr/local/bin/tcp-routed", os.path.abspath(sys.argv[1])))
    r = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True, timeout=60)
    # verify also reports on units this one names (After=, WantedBy=) that are absent in a
    # container; only lines about this unit count.
    bad = [l for l in (r.stdout + r.stderr).splitlines() if "tcp-routed.service" in l]
    if bad:
        failures.extend(bad)
for f in failures:
    print("FAIL", f)
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
