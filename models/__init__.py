"""The keraslosses model zoo: the Autonets of Kamal & Bae and their baselines.

The models arrive with later issues; for now this package holds the
`keraslosses` command line (`models.cli`) and its demo job, which trains a
small classifier on scikit-learn's bundled 8x8 digits with several
keraslosses losses.
"""
