"""The pieces of ``bench/run.py`` (``make bench``): Postfix and the relay under the same load.

procs: bounded child processes; sink: smtp-sink and its message count; postfix: the baseline
instance; relaynode: the relay under test; load: smtp-source and the latency client; cpu: CPU
accounting from /proc; stats: medians and the table; machine: what it ran on; hotspots: py-spy.
"""
