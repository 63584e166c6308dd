"""The studies of docs/studies.md: one module per study, each a spec (configs/studies/) run as a sweep,
and a function that turns the sweep's run directories into its section of docs/studies.md.

`python scripts/study_all.py` (`make studies`) runs them; see that script for the options.
"""
