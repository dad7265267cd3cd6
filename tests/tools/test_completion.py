#!/usr/bin/python3
"""tools/tcp-routectl/tcp-routectl.bash completes what tcp-routectl accepts: its commands, each
command's options and the values they take. Each case: the words typed, the word being completed,
what must be offered."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tools", "tcp-routectl", "tcp-routectl.bash")
CASES = [
    (["tcp-routectl", ""], {"status", "agents", "agent", "zone", "release", "paths", "path", "flows", "explain", "stats",
                            "classes", "reload", "events", "commands", "xdp", "--json", "--socket"}),
    (["tcp-routectl", "zone", ""], {"set"}),
    (["tcp-routectl", "zone", "set", "10.1.0.5", ""], {"TRUSTED", "MONITORED", "QUARANTINED", "ISOLATED", "--ttl"}),
    (["tcp-routectl", "agents", "--zone", "Q"], {"QUARANTINED"}),
    (["tcp-routectl", "path", ""], {"up", "down"}),
    (["tcp-routectl", "flows", "--"], {"--top", "--class", "--agent", "--json"}),
    (["tcp-routectl", "explain", "--proto", ""], {"tcp", "udp"}),
    (["tcp-routectl", "xdp", ""], {"attach", "detach", "status"}),
    (["tcp-routectl", "--socket", "/tmp/x.sock", "events", "--"], {"--last", "--follow", "--json"}),
]
failures = 0
for words, want in CASES:
    script = (f"source {SCRIPT}; COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
              "_tcp_routectl; printf '%s\\n' \"${COMPREPLY[@]}\"")
    got = set(subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30).stdout.split())
    ok = want <= got
    failures += 0 if ok else 1
    print(("ok   " if ok else "FAIL ") + " ".join(words) + ("" if ok else f": missing {sorted(want - got)}"))
print(f"{failures} failure(s)")
sys.exit(1 if failures else 0)
