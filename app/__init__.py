"""Backprop Playground: watch a small neural network learn, one step at a time."""
import os

# One thread per request for NumPy's matrix products: OpenBLAS would otherwise spread a large network's products
# over every core, so one client's request could take the whole machine, outside its per-thread CPU budget
# (app/ratelimit.py Meter), while the event loop waits for a core. Set before NumPy loads; the variable wins if set.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
