"""Pure data code (no Prefect): archive handling, raw parsing, Parquet tensors, data-home layout."""
