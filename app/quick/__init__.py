"""Work on a session, where it runs and what it costs: short work runs on the event loop; long work, and work that
must wait for a lock (the session's, or the storage file's while another thread saves), in threads.

A hop to the threadpool and back costs more than a small network's whole step (bench/README.md has the figures),
and under load the threads contend with the event loop for the GIL. But while work runs on the loop no other
request moves, so only work estimated to be short does: requests on large networks, many steps, and storage over
a network (Redis) go to the threadpool.

costs.py estimates work in multiply-adds, scheduler.py runs it on the loop or in a thread, and json_parts.py writes
long JSON answers in parts so that writing them does not hold the loop either.
"""
