"""Evaluation code (reference mask, BCCD recall) used by ``allscope trust``, the benchmarks
and the tests; never on the live path. Takes plain parameters, not parsed arguments."""
