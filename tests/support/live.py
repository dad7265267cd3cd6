"""Helpers shared by the tests that run tcp-routed live (tests/dpdk, tests/e2e)."""
import subprocess


def sh(*cmd, check=True, timeout=30):
    """Runs a command; raises with its stderr when it fails and `check` is set."""
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def in_ns(ns, *cmd, **kw):
    """The same, inside network namespace `ns`."""
    return sh("ip", "netns", "exec", ns, *cmd, **kw)


def live_header(tmp, prefix, control=""):
    """[dataplane] (one worker, no hugepages, EAL file prefix `prefix`), [classify] with the classes
    file copied into `tmp`, and [control] with its socket in tmp/run plus `control` lines."""
    eal = ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", f"--file-prefix={prefix}", "-l", "0-1",
           "--log-level=*:error"]
    return f"""[dataplane]
workers = 1
mbufs = 4095
eal_args = [{", ".join('"' + a + '"' for a in eal)}]

[classify]
classes = "{tmp}/classes.toml"

[control]
socket = "{tmp}/run/control.sock"
{control}
"""

