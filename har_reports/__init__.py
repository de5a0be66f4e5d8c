"""Comparison reports for a training study: statistics, plots and rendering (no Prefect here)."""
