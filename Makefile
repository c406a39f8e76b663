# Two entry points for a fresh machine: `make demo` and `make test`.
# Both build .venv on first use: the package with every extra (`.[all]`:
# TensorFlow, tensorflow-datasets, KerasTuner), jax and torch (the other two
# Keras backends) and the test tools, every version pinned by constraints.txt.
# Only package registries are needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Tests and demos run one process per backend on a 2-core machine.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: venv test test-fast test-long demo bench clean

venv: $(STAMP)

# A venv made before [all] held tensorflow-cpu, which writes the same files as
# tensorflow: it is removed first (a no-op in a new venv).
$(STAMP): requirements-test.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip uninstall -q -y tensorflow-cpu 2>/dev/null || true
	$(PY) -m pip install -q -r requirements-test.txt -e ".[all]" -c constraints.txt
	touch $(STAMP)

# The whole suite under JAX, then every backend-dependent test (marked
# `multibackend`) under TensorFlow and PyTorch: one run per backend. Most
# tests are bound by one core (compiling, Python, subprocess start-up), so two
# pytest-xdist workers, each taking whole files, cut the JAX run from 19.6 to
# 11.6 minutes on a 2-core AVX2 machine. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test: venv
	KERAS_BACKEND=jax $(PYTEST) --durations=15 -m "not long" tests
	KERAS_BACKEND=tensorflow $(PYTEST) -m "multibackend and not long" tests
	KERAS_BACKEND=torch $(PYTEST) -m "multibackend and not long" tests

# Nightly-style: 2,000-step runs at large weights (FactorVAE gamma 100,
# beta-TCVAE beta 10) on every backend; tens of minutes on a 2-core CPU.
test-long: venv
	for b in jax tensorflow torch; do \
	  KERAS_BACKEND=$$b $(PY) -m pytest -q -m long tests/long || exit 1; \
	done

test-fast: venv
	KERAS_BACKEND=jax $(PYTEST) -m "not slow and not long" tests

demo: venv
	KERAS_BACKEND=$${KERAS_BACKEND:-tensorflow} $(PY) examples/demo.py --out runs/demo

bench: venv
	KERAS_BACKEND=$${KERAS_BACKEND:-tensorflow} $(PY) -m keras_factorvae.bench

clean:
	rm -rf $(VENV) runs .pytest_cache
