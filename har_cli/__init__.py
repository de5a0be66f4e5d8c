"""The ``har`` command line (cyclopts): flows, model catalog, predict and export.

Thin on purpose: commands parse, call the domain code (``har_data``, ``har_models``, the
flows) and print; the logic lives there.
"""
