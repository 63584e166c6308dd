"""mlrun report: one self-contained HTML file of a study. study (the runs, chosen by mlrun.compare),
table (the compare table as HTML), figures (plotly: parallel coordinates, scatter, learning curves),
run_sections (one collapsed section per run), page (the header, the assembly, the atomic write)."""
