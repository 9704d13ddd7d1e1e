import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Under pytest-xdist each worker shares the cores with the others, and
# OpenMP's spinning threads (scikit-learn's t-SNE) wait on a descheduled
# partner at every barrier: a t-SNE of 450 points took 44 s with 2 threads and
# 3.5 s with 1 while the other core was busy. One OpenMP thread per worker,
# set before scikit-learn loads; the command-line tests' subprocesses inherit it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Property-based tests: a few derandomized examples per case in the default
# tier; `HYPOTHESIS_PROFILE=slow` draws many more (random, not derandomized).
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings.register_profile("default", max_examples=6, deadline=None, derandomize=True,
                          suppress_health_check=_QUIET)
settings.register_profile("slow", max_examples=100, deadline=None, suppress_health_check=_QUIET)
# `.ci/run`'s JAX leg: there every example compiles its loss with XLA (the
# fuzz took 235 s of the leg's 400 s on 2 cores at 6 examples, 152 s at 3), so
# it draws 3; the TensorFlow tier and the PyTorch leg draw 6 of the same cases.
settings.register_profile("xla", parent=settings.get_profile("default"), max_examples=3)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parents[1]
#: The canonical MNIST / Fashion-MNIST IDX files: $KERASLOSSES_DATA_DIR, else
#: ../shared/datasets beside the repository (there in CI, absent on a user's clone);
#: absolute, since the tutorials' tests run in a temporary folder.
DATA_DIR = Path(os.environ.get("KERASLOSSES_DATA_DIR") or ROOT.parent / "shared" / "datasets").resolve()


def require_canonical_data() -> Path:
    """The folder of the canonical files; the test skips where they are
    absent, and fails instead under CI (`CI=true`), which must run it."""
    if all((DATA_DIR / name).is_dir() for name in ("mnist", "fashion_mnist")):
        return DATA_DIR
    reason = (f"the canonical MNIST and Fashion-MNIST IDX files are not in {DATA_DIR}: put them there "
              "(mnist/ and fashion_mnist/ folders) or point $KERASLOSSES_DATA_DIR at them")
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the data-dependent tests")
    pytest.skip(reason)


@pytest.fixture
def data_dir():
    return require_canonical_data()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _float32_policy():
    """Every test starts and ends with the float32 global policy."""
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")
