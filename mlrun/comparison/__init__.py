"""mlrun compare: rows (reading run directories fast), keys (parameters vs metrics, which columns), filters
(--filter), formats (table cells, csv, json, markdown, the overlay plot), select (mlrun.compare: sort, top,
seed groups)."""
