"""The procedural dSprites: exact rendering, factor semantics, variants."""

import numpy as np
import pytest

from keras_factorvae.datasets import ColorDSprites
from keras_factorvae.datasets import DSprites
from keras_factorvae.datasets import NoisyDSprites
from keras_factorvae.datasets import sprite_renderer


def render(data, shape=0, scale=5, orientation=0, pos_x=16, pos_y=16):
    index = data.factors_to_index([[shape, scale, orientation, pos_x, pos_y]])
    return data.render(index)[0]


def centroid(image):
    """(x, y) in continuous pixel coordinates: pixel (r, c) has centre (c + .5, r + .5)."""
    rows, cols = np.nonzero(image)
    return cols.mean() + 0.5, rows.mean() + 0.5


def reference_render(factors, size=18.0, ss=4):
    """Straight rasterisation of one image, without the shifted-sprite cache."""
    shape, scale, orientation, pos_x, pos_y = factors
    samples = (np.arange(64 * ss) + 0.5) / ss
    cx = 8.75 + 1.5 * pos_x
    cy = 8.75 + 1.5 * pos_y
    dx = (samples[None, :] - cx).astype(np.float32)
    dy = (samples[:, None] - cy).astype(np.float32)
    theta = sprite_renderer.ORIENTATIONS[orientation]
    cos = np.float32(np.round(np.cos(theta), 12))
    sin = np.float32(np.round(np.sin(theta), 12))
    u, v = dx * cos + dy * sin, dy * cos - dx * sin
    hit = sprite_renderer.inside_shape(shape, u, v, size * sprite_renderer.SCALES[scale])
    hits = hit.reshape(64, ss, 64, ss).sum(axis=(1, 3))
    return (2 * hits >= ss * ss).astype(np.uint8)


def test_render_matches_direct_rasterisation():
    # Shifting cached base sprites by whole pixels must be exact.
    data = DSprites()
    factors = data.sample_factors(12, np.random.RandomState(0))
    factors[:3] = [[2, 5, 7, 0, 31], [0, 5, 5, 31, 0], [1, 0, 39, 1, 30]]
    images = data.render(data.factors_to_index(factors))
    for f, image in zip(factors, images):
        np.testing.assert_array_equal(image, reference_render(f), err_msg=str(f))


def test_images_are_binary_and_deterministic():
    data = DSprites()
    indices = np.random.RandomState(1).randint(data.num_examples, size=32)
    images = data.render(indices)
    assert images.dtype == np.uint8 and images.shape == (32, 64, 64)
    assert set(np.unique(images)) == {0, 1}
    assert all(image.any() for image in images)
    np.testing.assert_array_equal(images, DSprites().render(indices))


def test_square_size_and_position_by_hand():
    data = DSprites()
    # Side 18 px at scale 1 and 9 px at scale 0.5, at orientation 0: with the
    # centre at a .75 or .25 pixel fraction every edge pixel is >= or < half
    # covered, so the areas are exact.
    assert render(data, scale=5).sum() == 18 * 18
    assert render(data, scale=0).sum() == 9 * 9
    for k in range(2, 30, 3):
        x, y = centroid(render(data, pos_x=k, pos_y=31 - k))
        # Edge pixels round to whole pixels: off by exactly a quarter pixel.
        assert abs(x - (8.75 + 1.5 * k)) == pytest.approx(0.25)
        assert abs(y - (8.75 + 1.5 * (31 - k))) == pytest.approx(0.25)


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_pos_x_moves_columns_and_pos_y_moves_rows(shape):
    data = DSprites()
    along_x = np.array([centroid(render(data, shape, pos_x=k)) for k in range(32)])
    along_y = np.array([centroid(render(data, shape, pos_y=k)) for k in range(32)])
    assert np.all(np.diff(along_x[:, 0]) > 0.5)  # x = column increases
    assert np.ptp(along_x[:, 1]) < 0.5  # row stays
    assert np.all(np.diff(along_y[:, 1]) > 0.5)  # y = row increases
    assert np.ptp(along_y[:, 0]) < 0.5
    # The centre travels from about pixel 8.75 to 55.25 (46.5 px).
    assert along_x[-1, 0] - along_x[0, 0] == pytest.approx(46.5, abs=3)


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_area_grows_with_scale(shape):
    data = DSprites()
    areas = np.array([render(data, shape, scale=s).sum() for s in range(6)])
    assert np.all(np.diff(areas) > 0)
    assert areas[-1] / areas[0] == pytest.approx(4.0, rel=0.15)  # (1 / 0.5)^2


@pytest.mark.parametrize("scale, tolerance", [(5, 0.03), (0, 0.08)])
def test_orientation_rotates_the_ellipse_principal_axis(scale, tolerance):
    data = DSprites()
    angles = []
    for k in range(40):
        rows, cols = np.nonzero(render(data, 1, scale, orientation=k))
        x, y = cols - cols.mean(), rows - rows.mean()
        angles.append(0.5 * np.arctan2(2 * (x * y).mean(), (x * x - y * y).mean()))
    # Clockwise on screen (y down): the long axis points along
    # (cos t, sin t) in (column, row) coordinates; angles are mod pi.
    error = (np.array(angles) - sprite_renderer.ORIENTATIONS + np.pi / 2) % np.pi
    assert np.abs(error - np.pi / 2).max() < tolerance


def test_orientation_ends_coincide_and_square_has_fourfold_symmetry():
    data = DSprites()
    for shape in range(3):
        np.testing.assert_array_equal(
            render(data, shape, orientation=0), render(data, shape, orientation=39)
        )
    square = render(data, 0, orientation=5)
    assert (square != render(data, 0, orientation=0)).sum() > 20  # it rotates


def test_the_three_shapes_differ_and_the_heart_is_a_heart():
    data = DSprites()
    square, ellipse, heart = (render(data, s) for s in range(3))
    for a, b in [(square, ellipse), (square, heart), (ellipse, heart)]:
        assert (a != b).sum() > 60
    # Ellipse: twice as wide as tall at orientation 0.
    rows, cols = np.nonzero(ellipse)
    assert np.ptp(cols) + 1 == pytest.approx(2 * (np.ptp(rows) + 1), abs=2)
    # Heart, upright: two lobes at the top, a point at the bottom, widest in
    # the upper half, and not symmetric top to bottom.
    lit = np.flatnonzero(heart.any(axis=1))
    top, bottom = heart[lit[0]], heart[lit[-1]]
    assert np.count_nonzero(np.diff(top.astype(int)) == 1) == 2  # two runs
    assert bottom.sum() <= 3 and top.sum() >= 6
    widths = heart.sum(axis=1)[lit]
    assert np.argmax(widths) < len(lit) / 2
    assert (heart != heart[::-1]).sum() > 20


def test_materialize_packs_the_render_in_index_order(monkeypatch):
    data = DSprites()
    monkeypatch.setattr(DSprites, "num_examples", 3000)  # a slice, not 737,280
    packed = data.materialize(packed=True, chunk_size=1024)
    plain = data.materialize(packed=False, chunk_size=700)
    assert packed.shape == (3000, 64, 8) and plain.shape == (3000, 64, 64)
    expected = data.renderer.render(np.arange(3000))
    np.testing.assert_array_equal(np.unpackbits(packed, axis=-1), expected)
    np.testing.assert_array_equal(plain, expected)


def test_color_dsprites_tints_like_disentanglement_lib():
    data = ColorDSprites()
    assert tuple(data.observation_shape) == (64, 64, 3)
    factors = data.sample_factors(5, np.random.RandomState(0))
    x = data.sample_observations_from_factors(factors, np.random.RandomState(4))
    binary = DSprites().sample_observations_from_factors(factors, None)
    # disentanglement_lib: observations * uniform(0.5, 1, [n, 1, 1, 3]).
    color = np.random.RandomState(4).uniform(0.5, 1, [5, 1, 1, 3])
    np.testing.assert_allclose(x, binary * color, rtol=1e-6)
    assert x.dtype == np.float32
    sprite = binary[..., 0] > 0
    assert np.all(x[~sprite] == 0) and np.all(x[sprite] >= 0.5)
    again = data.sample_observations_from_factors(factors, np.random.RandomState(4))
    np.testing.assert_array_equal(x, again)


def test_noisy_dsprites_float_noise_is_disentanglement_lib_exact():
    data = NoisyDSprites(float_noise=True)
    factors = data.sample_factors(3, np.random.RandomState(0))
    x = data.sample_observations_from_factors(factors, np.random.RandomState(2))
    binary = DSprites().sample_observations_from_factors(factors, None)
    noise = np.random.RandomState(2).uniform(0, 1, [3, 64, 64, 3])
    np.testing.assert_allclose(x, np.minimum(binary + noise, 1.0), rtol=1e-6)


def test_noisy_dsprites_default_noise_is_8_bit_uniform():
    data = NoisyDSprites()
    factors = data.sample_factors(16, np.random.RandomState(0))
    x = data.sample_observations_from_factors(factors, np.random.RandomState(1))
    assert x.shape == (16, 64, 64, 3) and x.dtype == np.float32
    sprite = DSprites().sample_observations_from_factors(factors, None)[..., 0] > 0
    assert np.all(x[sprite] == 1.0)
    background = x[~sprite]
    np.testing.assert_allclose(background * 255, np.round(background * 255), atol=1e-4)
    assert background.mean() == pytest.approx(0.5, abs=0.01)
    assert background.min() == 0.0 and np.quantile(background, 0.25) == pytest.approx(0.25, abs=0.02)
    y = data.sample_observations_from_factors(factors, np.random.RandomState(1))
    np.testing.assert_array_equal(x, y)
    z = data.sample_observations_from_factors(factors, np.random.RandomState(2))
    assert not np.array_equal(x, z)


def test_sprite_size_is_a_parameter():
    assert render(DSprites(sprite_size=10), scale=5).sum() == 100
    with pytest.raises(ValueError, match="sprite_size"):
        DSprites(sprite_size=0).render([0])
