"""`load`: datasets by name."""

from keras_factorvae.datasets import dsprites

PROCEDURAL = {
    "dsprites": dsprites.DSprites,
    "color_dsprites": dsprites.ColorDSprites,
    "noisy_dsprites": dsprites.NoisyDSprites,
}
TFDS = ("dsprites", "shapes3d", "smallnorb")
KNOWN_DATASETS = {"procedural": tuple(PROCEDURAL), "tfds": TFDS}


def load(name, source=None, data_dir=None, **kwargs):
    """Returns a `GroundTruthData` by name.

    Args:
        name: "dsprites", "color_dsprites", "noisy_dsprites" (procedural, no
            download), or "shapes3d", "smallnorb" (tensorflow-datasets);
            "dsprites" with `source="tfds"` reads the real dSprites.
        source: "procedural" or "tfds"; by default procedural when the name
            has a procedural version, else tfds.
        data_dir: tfds data directory (tfds source only).
        **kwargs: passed to the dataset class (procedural, e.g.
            `sprite_size`) or to `tfds_sources.load_tfds` (e.g. `split`,
            `download`).

    Returns:
        A `GroundTruthData`.

    Example:

    ```python
    data = load("color_dsprites")
    real = load("dsprites", source="tfds", data_dir="/data/tfds")
    ```
    """
    key = str(name).lower()
    if source is None:
        source = "procedural" if key in PROCEDURAL else "tfds"
    if source not in KNOWN_DATASETS or key not in KNOWN_DATASETS[source]:
        known = "; ".join(
            f"{src}: {', '.join(names)}"
            for src, names in KNOWN_DATASETS.items()
        )
        raise ValueError(
            f"Unknown dataset {name!r} for source {source!r}. Known datasets "
            f"by source: {known}."
        )
    if source == "procedural":
        if data_dir is not None:
            raise ValueError("data_dir applies to source='tfds' only.")
        return PROCEDURAL[key](**kwargs)
    from keras_factorvae.datasets import tfds_sources

    return tfds_sources.load_tfds(key, data_dir=data_dir, **kwargs)
