"""Plain Python re-implementation of Loki Mode's chain rule (spec §3), for the benchmark:
what a user would write from Loki Mode's docs. Prints the number of entries checked."""
import hashlib, json, os, sys

d = sys.argv[1]
prev = "0" * 64
n = 0
for name in sorted(os.listdir(d)):
    if not name.startswith("audit-") or not name.endswith(".jsonl"):
        continue
    with open(os.path.join(d, name), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            e = json.loads(line)
            # The writer's field, or the documented schema's.
            h = e.pop("_integrity_hash") if "_integrity_hash" in e else e.pop("chain_hash")
            if hashlib.sha256((prev + json.dumps(e, sort_keys=True, default=str)).encode()).hexdigest() != h:
                print("tampered", name, file=sys.stderr)
                sys.exit(1)
            prev = h
            n += 1
print(n)
