#!/usr/bin/python3
"""measure.py INPUT CMD...: runs CMD with stdin from INPUT, stdout to
/dev/null and stderr to INPUT.log, and prints "WALL_SECONDS PEAK_RSS_KB".
Peak RSS is ru_maxrss of RUSAGE_CHILDREN: this process has one child, so it
is that command's (/usr/bin/time may not be installed)."""
import resource
import subprocess
import sys
import time

if len(sys.argv) < 3:
    sys.exit("usage: measure.py INPUT CMD...")
with open(sys.argv[1], "rb") as inp, open(sys.argv[1] + ".log", "ab") as err:
    start = time.monotonic()
    rc = subprocess.run(sys.argv[2:], stdin=inp, stdout=subprocess.DEVNULL, stderr=err).returncode
    wall = time.monotonic() - start
if rc != 0:
    sys.exit("%s exited %d (see %s.log)" % (sys.argv[2], rc, sys.argv[1]))
print("%.3f %d" % (wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
