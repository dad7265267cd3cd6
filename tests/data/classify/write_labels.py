#!/usr/bin/python3
"""write_labels.py PCAP RUNLOG [--out FILE] — the ground-truth labels of a capture.

RUNLOG is what the programs that made PCAP said they did (clients.py writes it), one JSON object a
line, in the order the connections were made:

  {"kind": "conv", "proto", "client", "server", "class", "tags", "sni", "host", "method", "path",
   "note"}
      one conversation. `client` is "ip:port" when the client bound its port itself (curl
      --local-port, openssl s_client -bind, a bound python socket); null when the program picked
      an ephemeral port (grpc, nghttp, dig, ssh): such labels take, in log order, the capture's
      still unlabelled conversations to `server`, in the order of their first frame (each was
      made only after the previous one ended, so the orders agree).
  {"kind": "http_requests", "request_log", "server", "class", "tags", "host", "note"}
      a program that opened connections on its own (the MCP SDK's fetch): request_log lists, in
      issue order, every HTTP request it sent (http_method, target, body, jsonrpc_methods; see
      mcp/client.mjs). tshark's HTTP decode is used ONLY to see which connection carried which
      request: each unlabelled conversation to `server` whose first request is (method, target,
      body) of a logged request is labelled from that logged request: `path` its target,
      `method` its first JSON-RPC method (null if it has none, e.g. the SSE GET or the DELETE).
  {"kind": "empty", "server", "class", "tags", "note"}
      the same program may also open connections that carry no payload byte either way (a TCP
      handshake and a FIN): every such conversation to `server` gets this label (class unknown:
      there is no content to classify).

Every label must find its conversation and every TCP/UDP conversation of PCAP must get exactly one
label, or this exits 1 naming what is left over. A record may also carry `min_client_segments`
(split_sender.py): its client must have sent at least that many TCP segments with data. The labels are written to PCAP.labels.jsonl (or
--out) in the capture's conversation order with the keys proto, client, server, class, tags (sorted),
sni, host, method, path and note (a human description, ignored by the checker).
"""
import argparse
import json
import subprocess
import sys

LABEL_KEYS = ("proto", "client", "server", "class", "tags", "sni", "host", "method", "path",
              "note")


def tshark(args):
    res = subprocess.run(["tshark", "-n", "-r"] + args, capture_output=True, text=True,
                         timeout=120)
    if res.returncode != 0:
        sys.exit(f"write_labels: tshark {' '.join(args)}: {res.stderr.strip()}")
    return res.stdout


def endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def conversations(pcap):
    """[(proto, stream, client, server, first_frame)] in first-frame order; client = first sender."""
    fields = ["frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.stream",
              "tcp.srcport", "tcp.dstport", "udp.stream", "udp.srcport", "udp.dstport"]
    out = tshark([pcap, "-T", "fields", "-E", "occurrence=f"] + sum((["-e", f] for f in fields), []))
    convs = {}
    for line in out.splitlines():
        v = dict(zip(fields, line.split("\t")))
        src, dst = (v["ip.src"], v["ip.dst"]) if v["ip.src"] else (v["ipv6.src"], v["ipv6.dst"])
        for proto in ("tcp", "udp"):
            if v[f"{proto}.stream"]:
                key = (proto, int(v[f"{proto}.stream"]))
                if key not in convs:
                    convs[key] = (proto, key[1], endpoint(src, v[f"{proto}.srcport"]),
                                  endpoint(dst, v[f"{proto}.dstport"]), int(v["frame.number"]))
                break
    return sorted(convs.values(), key=lambda c: c[4])


def first_requests(pcap, port):
    """tcp.stream → (method, target, body or None) of the first HTTP request on it."""
    out = tshark([pcap, "-d", f"tcp.port=={port},http", "-Y", "http.request", "-T", "json",
                  "-e", "tcp.stream", "-e", "http.request.method", "-e", "http.request.uri",
                  "-e", "http.file_data"])
    first = {}
    for pkt in json.loads(out or "[]"):
        f = pkt["_source"]["layers"]
        stream = int(f["tcp.stream"][0])
        # A segment holding two pipelined requests lists both: the first of the segment counts.
        body = f.get("http.file_data", [None])[0]
        first.setdefault(stream, (f["http.request.method"][0], f["http.request.uri"][0],
                                  body or None))
    return first


def streams_with_payload(pcap):
    out = tshark([pcap, "-Y", "tcp.len > 0", "-T", "fields", "-e", "tcp.stream"])
    return {int(x) for x in out.split()}


def check_segments(pcap, records):
    """Records with `min_client_segments` (split_sender.py): the client really sent its first
    bytes in that many TCP segments with data, at least."""
    want = {r["client"]: r["min_client_segments"] for r in records if "min_client_segments" in r}
    if not want:
        return []
    out = tshark([pcap, "-Y", "tcp.len > 0", "-T", "fields", "-e", "ip.src", "-e", "tcp.srcport"])
    got = {}
    for line in out.splitlines():
        ip, port = line.split("\t")
        got[endpoint(ip, port)] = got.get(endpoint(ip, port), 0) + 1
    return [f"{client}: {got.get(client, 0)} client segments with data, expected >= {n}"
            for client, n in want.items() if got.get(client, 0) < n]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pcap")
    ap.add_argument("runlog")
    ap.add_argument("--out")
    args = ap.parse_args(argv[1:])
    records = [json.loads(line) for line in open(args.runlog, encoding="utf-8") if line.strip()]
    convs = conversations(args.pcap)
    labels = {}  # conversation first frame → label
    problems = []

    def take(conv, rec):
        label = {k: rec.get(k) for k in LABEL_KEYS}
        label.update(proto=conv[0], client=conv[2], server=conv[3],
                     tags=sorted(set(rec.get("tags") or [])))
        labels[conv[4]] = label

    free = lambda: [c for c in convs if c[4] not in labels]  # noqa: E731

    # 1. Labels whose client port is known.
    for rec in records:
        if rec["kind"] == "conv" and rec.get("client"):
            hits = [c for c in free() if (c[0], c[2], c[3]) ==
                    (rec["proto"], rec["client"], rec["server"])]
            if len(hits) != 1:
                problems.append(f"{len(hits)} conversations for {rec['proto']} {rec['client']} -> "
                                f"{rec['server']} ({rec.get('note')})")
                continue
            take(hits[0], rec)
    # 2. Connections of a program that logged its HTTP requests.
    for rec in records:
        if rec["kind"] != "http_requests":
            continue
        reqs = [json.loads(line) for line in open(rec["request_log"], encoding="utf-8")
                if line.strip()]
        used = set()
        port = rec["server"].rsplit(":", 1)[1]
        first = first_requests(args.pcap, port)
        for c in free():
            if c[0] != "tcp" or c[3] != rec["server"] or c[1] not in first:
                continue
            method, target, body = first[c[1]]
            match = next((r for r in reqs if r["seq"] not in used and r["http_method"] == method
                          and r["target"] == target and (r["body"] or None) == body), None)
            if match is None:
                continue
            used.add(match["seq"])
            jm = match["jsonrpc_methods"]
            take(c, dict(rec, path=match["target"], method=jm[0] if jm else None,
                         note=f"{rec['note']}: first request {method} {target}"
                              + (f" {'+'.join(jm)}" if jm else "")))
        if not used:
            problems.append(f"no conversation to {rec['server']} starts with a request of "
                            f"{rec['request_log']}")
    # 3. Connections that carried no payload either way (the SDK's fetch opens a few while it
    #    shuts down): nothing to classify, so the truth is `unknown`.
    for rec in records:
        if rec["kind"] != "empty":
            continue
        with_data = streams_with_payload(args.pcap)
        for c in free():
            if c[0] == "tcp" and c[3] == rec["server"] and c[1] not in with_data:
                take(c, rec)
    # 4. Labels of ephemeral-port clients, in order.
    for rec in records:
        if rec["kind"] == "conv" and not rec.get("client"):
            hits = [c for c in free() if c[0] == rec["proto"] and c[3] == rec["server"]]
            if not hits:
                problems.append(f"no conversation left for {rec['proto']} -> {rec['server']} "
                                f"({rec.get('note')})")
                continue
            take(hits[0], rec)
    for c in free():
        problems.append(f"conversation {c[0]} {c[2]} -> {c[3]} (frame {c[4]}) has no label")
    problems += check_segments(args.pcap, records)
    if problems:
        for p in problems:
            print(f"write_labels: {args.pcap}: {p}", file=sys.stderr)
        return 1
    out = args.out or args.pcap + ".labels.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        for frame in sorted(labels):
            f.write(json.dumps(labels[frame]) + "\n")
    counts = {}
    for lab in labels.values():
        counts[lab["class"]] = counts.get(lab["class"], 0) + 1
        for t in lab["tags"]:
            counts["#" + t] = counts.get("#" + t, 0) + 1
    print(f"write_labels: {out}: {len(labels)} conversations; "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
