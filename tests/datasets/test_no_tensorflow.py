"""`import keras_factorvae.datasets` works where TensorFlow is absent."""

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = textwrap.dedent(
    """
    import sys

    class BlockTensorFlow:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "tensorflow_datasets"):
                raise ImportError("TensorFlow is blocked in this test")

    sys.meta_path.insert(0, BlockTensorFlow())
    from keras_factorvae import datasets

    images = datasets.DSprites().render([0, 737279])
    assert images.shape == (2, 64, 64) and images.sum() > 0, images.sum()
    batch = datasets.as_py_dataset(datasets.ColorDSprites(), batch_size=4)[0]
    assert batch.shape == (4, 64, 64, 3), batch.shape
    try:
        datasets.load("shapes3d")
    except ImportError:
        pass
    else:
        raise AssertionError("tfds loaded although blocked")
    assert not any(m.startswith("tensorflow") for m in sys.modules)
    print("OK")
    """
)


def test_import_and_render_without_tensorflow():
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=ROOT)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK")
