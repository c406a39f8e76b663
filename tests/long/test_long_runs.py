"""Long runs at large weights stay finite (`make test-long`, every backend).

The paper-scale weights that push codes hardest: FactorVAE at gamma 100 and
beta-TCVAE at beta 10, 2,000 steps each of the conv preset at batch 64 on
dSprites, through the one training engine. Minutes per model on a CPU, so
they run in `make test-long` rather than in `make test`.
"""

import json

import numpy as np
import pytest

from keras_factorvae import losses
from keras_factorvae import runs

pytestmark = [pytest.mark.long, pytest.mark.multibackend]

STEPS = 2000


@pytest.mark.parametrize("name,kwargs,paired", [
    ("factorvae", {"gamma": 100.0}, True),
    ("beta_tcvae", {"beta": 10.0}, False),
])
def test_2000_steps_stay_finite(name, kwargs, paired, tmp_path):
    from keras import ops

    config = runs.TrainConfig(
        model=name, model_kwargs={"latent_dim": 10, "preset": "conv", "seed": 0,
                                  **kwargs},
        steps=STEPS, steps_per_epoch=250, batch_size=64, paired=paired,
        metrics=("mig",), metric_size="tiny", traversal_every=0,
        pictures=False, verbose=0)
    run = runs.train(config, str(tmp_path / name))
    history = json.loads((tmp_path / name / "history.json").read_text())
    assert history["epoch"] == list(range(1, STEPS // 250 + 1))
    for key, values in history.items():
        assert np.all(np.isfinite(values)), (key, values)
    assert run.record["steps_done"] == STEPS
    # The model learned something and its codes are usable.
    assert history["reconstruction_loss"][-1] < 0.5 * history["reconstruction_loss"][0]
    x = run.data.sample_observations(256, np.random.RandomState(1))
    mean, logvar = run.model.encode_stats(x)
    mean, logvar = ops.convert_to_numpy(mean), ops.convert_to_numpy(logvar)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(logvar))
    assert logvar.min() >= losses.LOGVAR_MIN and logvar.max() <= losses.LOGVAR_MAX
    terms = run.model.compute_losses(x[:64], x[64:128])
    assert all(np.isfinite(v) for v in terms.values()), terms
    if name == "factorvae":
        logits = ops.convert_to_numpy(run.model.discriminator(mean))
        assert np.all(np.isfinite(logits))
    assert 0.0 <= run.scores["mig.discrete_mig"] <= 1.0
