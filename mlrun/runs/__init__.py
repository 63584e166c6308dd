"""The run directory and its files: files (atomic writes, safe reads), history (history.csv), discovery
(finding runs, stale status), directory (RunDir, run.json's life cycle), plots (the figures)."""
