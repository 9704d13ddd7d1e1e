"""The benchmark suite (not installed): `losses` (keraslosses against its
Keras twins and the O(B^3) triplet formulation) and `training` (the game
models' throughput per precision), on one timing harness (`harness`).

Run from the repository root: `python scripts/bench_losses.py [--quick]`,
`python scripts/bench_training.py [--quick]`; each prints a table and writes
its JSON under `benchmarks/results/`.
"""
