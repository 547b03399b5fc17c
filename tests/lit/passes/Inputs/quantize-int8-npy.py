"""Writes a zero-filled .npy (format 1.0) without numpy: quantize-int8-errors.mir's bad calibration samples.
Usage: quantize-int8-npy.py FILE DESCR DIMS   e.g.  a.npy '<f4' 1,3,4,4"""
import math
import sys

path, descr, dims = sys.argv[1], sys.argv[2], [int(d) for d in sys.argv[3].split(",")]
header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, ", ".join(map(str, dims)) + ("," if len(dims) == 1 else ""))
header += " " * (63 - (10 + len(header)) % 64) + "\n"  # the whole preamble is a multiple of 64 bytes
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1"))
    f.write(bytes(int(descr[2:]) * math.prod(dims)))
