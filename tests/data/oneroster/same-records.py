"""Compares the RECORD messages of two Singer files stream by stream (order
ignored): exit 0 and "same: {stream: count}" when equal, else exit 1 and
the first difference. Usage: same-records.py A B"""
import json,sys
def recs(p):
    out={}
    for l in open(p):
        m=json.loads(l)
        if m.get("type")=="RECORD":
            out.setdefault(m["stream"],[]).append(json.dumps(m["record"],sort_keys=True,ensure_ascii=False))
    return {k:sorted(v) for k,v in out.items()}
a,b=recs(sys.argv[1]),recs(sys.argv[2])
for s in sorted(set(a)|set(b)):
    if a.get(s)!=b.get(s):
        print("differs:",s,len(a.get(s,[])),len(b.get(s,[])))
        for x,y in zip(a.get(s,[]),b.get(s,[])):
            if x!=y: print(" drop:",x);print(" rest:",y);break
        sys.exit(1)
print("same:", {s:len(v) for s,v in a.items()})
