#!/usr/bin/env bash
# Writes seed inputs for every fuzz target into fuzz/seeds/<target>/ (git-ignored): our own
# vectors from tests/vectors and, when the official spec folder ($1) exists, every official
# 2026-04-17 example payload (generated here at run time, never committed).
set -euo pipefail
cd "$(dirname "$0")"
spec="${1:-../../shared/acp-spec}"
case "$spec" in /*) ;; *) spec="$PWD/../$spec" ;; esac
rm -rf seeds
mkdir -p seeds/{parse_types,headers,webhook_signature,request_signature,jcs,allowance,idempotency,state_machine,merchant_engine}
python3 - "$spec" <<'PY'
import json, os, sys, hashlib, glob
spec = sys.argv[1]
def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join("seeds", target, name), "wb") as f:
        f.write(data)
docs = []
for path in sorted(glob.glob(os.path.join(spec, "examples", "2026-04-17", "**", "*.json"), recursive=True)):
    with open(path, "rb") as f:
        doc = json.load(f)
    if isinstance(doc, dict):
        docs.extend(v for k, v in doc.items() if isinstance(v, dict))
        docs.append(doc)
for i, doc in enumerate(docs):
    body = json.dumps(doc).encode()
    # parse_types: <version|0x80 top-level><type index><JSON>; version 4 = 2026-04-17. Every
    # top-level body type (index 0..37 covers the 19 operations' request/response names) and
    # the same bodies as the registry types of every version.
    for index in range(38):
        put("parse_types", bytes([0x80 | 4, index]) + body)
    for version in range(4):
        put("parse_types", bytes([0x80 | version, i % 38]) + body)
    put("jcs", body)
    put("request_signature", b"\0" + b"2026-04-17T00:00:00Z\0" + body)
    put("webhook_signature", b"t=1800000000,v1=" + b"0" * 64 + b"\0" + body)
for path in sorted(glob.glob("../tests/vectors/*.json*")):
    with open(path, "rb") as f:
        data = f.read()
    for line in data.splitlines()[:200]:
        put("jcs", line)
# Minimal seeds for the JSON targets, so they start from something without the spec too.
put("parse_types", bytes([0x84, 0]) + b'{"id":"cs_1","status":"ready_for_payment","currency":"usd"}')
put("request_signature", b"\0" + b"2026-04-17T00:00:00Z\0" + b'{"a":1}')
put("webhook_signature", b"t=1800000000,v1=" + b"0" * 64 + b"\0" + b'{"type":"order_created"}')
put("headers", b"\x00\x00Bearer sk_test\n\x01application/json\n\x022026-04-17\n\x03key-1")
put("headers", b"\x03\x07en-US,en;q=0.9\n\x062026-04-17T00:00:00Z\n\x05abc")
put("allowance", bytes(range(64)))
# idempotency: begin (op>>4 in 0..=5), complete (6..=10), release (11..=12), clock (13..=15).
put("idempotency", bytes([0x00, 0x02, 0x00, 0x60, 0x00, 0x04, 0x68, 0x00, 0xb0, 0x00, 0xdf, 0x00]))
put("idempotency", bytes([0x01, 0x01, 0xd3, 0x01, 0x6d, 0x01, 0xff, 0xff, 0x01]))
# state_machine: <version><start status><event, policy answer>...
for version in range(5):
    put("state_machine", bytes([version, 0]) + bytes(range(26)))
put("state_machine", bytes([4, 4, 3, 0, 5, 0, 12, 0, 4, 0]))
put("state_machine", bytes([4, 0xff, 0, 0, 0x80, 7, 0x84, 0xff]))
# merchant_engine: <selector: route index, 0x80 = authorized><header lines>0x00<body>; every
# route authorized with a fresh key and, for writes, the official 2026-04-17 request bodies.
bodies = [b"{}"] + [json.dumps(d).encode() for d in docs[:40]]
for route in range(16):
    for body in bodies[:6]:
        put("merchant_engine", bytes([0x80 | route]) + b"Idempotency-Key: k%d\nContent-Type: application/json\x00" % route + body)
mcp = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "create_checkout_session",
       "arguments": {"meta": {"api_version": "2026-04-17", "idempotency_key": "m1"},
                     "payload": {"currency": "usd", "line_items": [{"id": "a"}], "capabilities": {}}}}}
put("merchant_engine", bytes([0x80 | 10]) + b"Content-Type: application/json\x00" + json.dumps(mcp).encode())
PY
