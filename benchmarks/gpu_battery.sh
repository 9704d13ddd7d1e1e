#!/usr/bin/env bash
# The loss library's battery (float64 references, gradients, reductions,
# float16/bfloat16 inputs and mixed-precision policies, config round trips,
# property tests and doctests) on a CUDA GPU, under Keras' JAX and PyTorch
# backends at once: the CPU legs of `.ci/run`, with every tensor on the GPU.
#
# Meant for a machine with an NVIDIA GPU, jax[cuda] and a CUDA build of torch
# but no TensorFlow. Run from the repository root; a folder `.whl` of wheels
# (keras, namex, optree) is installed first when present. Writes
# `$OUT/{device,jax,torch}.{txt,log,xml}` (OUT defaults to ./gpu_battery;
# $BACKENDS, to "jax torch", picks the legs);
# each leg is interrupted (SIGINT, so pytest still reports) after 300 s.
set -u
OUT=${OUT:-gpu_battery}
BACKENDS=${BACKENDS:-jax torch}
mkdir -p "$OUT"
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
# Several pytest workers share the GPU: JAX must not grab 75 % of it each.
export XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1
TESTS="tests/test_battery.py tests/test_values.py tests/test_metric.py tests/test_adaptive.py tests/test_fuzz.py keraslosses"

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$OUT/device.txt"
# Refuse to report a CPU run as a GPU one: each backend must place a loss's
# value on the GPU.
for backend in $BACKENDS; do
    KERAS_BACKEND=$backend python3 - >> "$OUT/device.txt" 2>&1 <<'PY' || exit 1
import sys, keras, numpy as np, keraslosses
backend = keras.backend.backend()
assert "tensorflow" not in sys.modules
value = keraslosses.Huber()(np.zeros((4, 3), "float32"), np.ones((4, 3), "float32"))
device = str(value.device if backend == "torch" else list(value.devices())[0])
assert "cuda" in device.lower() or "gpu" in device.lower(), device
print(f"{backend}: keras {keras.__version__}, huber on {device}: {float(value):.6f}")
PY
done

run_leg() {  # backend, extra environment
    local backend=$1; shift
    local start=$SECONDS
    env KERAS_BACKEND="$backend" "$@" timeout -s INT -k 20 300 python3 -m pytest -n 6 -q $TESTS \
        --junitxml="$OUT/$backend.xml" > "$OUT/$backend.log" 2>&1
    echo "$backend leg: rc $? in $((SECONDS - start)) s" | tee -a "$OUT/device.txt"
}
for backend in $BACKENDS; do
    if [ "$backend" = jax ]; then run_leg jax JAX_ENABLE_X64=1 & else run_leg "$backend" & fi
done
wait
