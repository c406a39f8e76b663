"""`load` by name (procedural part; tfds sources are in test_tfds_sources)."""

import pytest

from keras_factorvae.datasets import ColorDSprites
from keras_factorvae.datasets import DSprites
from keras_factorvae.datasets import NoisyDSprites
from keras_factorvae.datasets import load


@pytest.mark.parametrize(
    "name, cls",
    [("dsprites", DSprites), ("color_dsprites", ColorDSprites), ("noisy_dsprites", NoisyDSprites)],
)
def test_procedural_names(name, cls):
    data = load(name)
    assert type(data) is cls
    assert data.factors_num_values == [3, 6, 40, 32, 32]
    assert type(load(name.upper(), source="procedural")) is cls


def test_kwargs_reach_the_class():
    assert load("dsprites", sprite_size=12).sprite_size == 12
    assert load("noisy_dsprites", float_noise=True).float_noise


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="procedural: dsprites, color_dsprites.*tfds: dsprites, shapes3d, smallnorb"):
        load("mnist")
    with pytest.raises(ValueError, match="Unknown dataset 'color_dsprites' for source 'tfds'"):
        load("color_dsprites", source="tfds")
    with pytest.raises(ValueError, match="Unknown dataset"):
        load("dsprites", source="hdf5")
    with pytest.raises(ValueError, match="data_dir"):
        load("dsprites", data_dir="/tmp")
