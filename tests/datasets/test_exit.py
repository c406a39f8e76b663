"""A process that iterates a tf.data pipeline exits by itself (issue 20)."""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("tensorflow")

# A render is still running on one of tf.data's threads when the script ends:
# every batch after the first takes half a second. Without the exit gate of
# `datasets.pipeline`, that thread asks for the GIL during finalization, is
# terminated, and the process waits for it forever.
SLOW_RENDER = """
    import time
    import numpy as np
    import keras_factorvae as kfv

    class Slow(kfv.datasets.ArrayGroundTruthData):
        calls = 0

        def raw_observations_from_indices(self, indices, random_state=None):
            Slow.calls += 1
            if Slow.calls > 2:
                time.sleep(0.5)
            return super().raw_observations_from_indices(indices, random_state)

    rng = np.random.RandomState(0)
    data = Slow((rng.rand(64, 8, 8, 1) > 0.5).astype("uint8"),
                np.arange(64)[:, None] % 4)
    it = iter(data.as_dataset(batch_size=8, seed=0))
    batch = next(it)
    time.sleep(0.2)  # let the prefetch threads start their slow renders
    print("exiting", flush=True)
"""

# The issue's own script: a large random-index render, then one batch.
ISSUE_SCRIPT = """
    import numpy as np
    import keras_factorvae as kfv
    ds = kfv.datasets.DSprites(); rs = np.random.RandomState(0)
    idx = np.random.RandomState(1).randint(0, 737280, size=20000)
    ds.sample_observations_from_factors(ds.index_to_factors(idx), rs)
    it = iter(ds.as_dataset(batch_size=64, shuffle=True, seed=0)); b = next(it)
    print("exiting", flush=True)
"""


@pytest.mark.multibackend
@pytest.mark.parametrize("script", [SLOW_RENDER, ISSUE_SCRIPT],
                         ids=["slow_render", "issue_script"])
def test_process_exits_with_a_live_tf_data_iterator(script, tmp_path):
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        result = subprocess.run([sys.executable, str(path)], env=env,
                                capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the process did not exit within 60 s of its last line")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "exiting" in result.stdout
