"""What happens between the layers: per-layer measurements on a probe batch, and advice from them.

``probe.Diagnostics`` is the training callback (it measures and keeps; it never prints or writes);
``advisor.findings`` turns its rows into findings; ``table`` and ``figures`` are what the run-directory
writer uses to keep them.
"""
