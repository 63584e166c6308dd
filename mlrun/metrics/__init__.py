"""Metrics: names (which exist, which way is better, each task's main metric; import-light) and scores
(scikit-learn metrics, reading advice, distances)."""
