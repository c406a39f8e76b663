"""Ground-truth datasets read from tensorflow-datasets into memory.

TensorFlow and tensorflow-datasets are imported inside `load_tfds` only.
"""

import threading

import numpy as np

from keras_factorvae.datasets.batch_plan import PackedBinaryImages
from keras_factorvae.datasets.ground_truth import ArrayGroundTruthData

# tfds feature -> factor, in the order of the Locatello et al. study.
TFDS_FACTORS = {
    "dsprites": {
        "label_shape": "shape",
        "label_scale": "scale",
        "label_orientation": "orientation",
        "label_x_position": "posX",
        "label_y_position": "posY",
    },
    "shapes3d": {
        "label_floor_hue": "floor_hue",
        "label_wall_hue": "wall_hue",
        "label_object_hue": "object_hue",
        "label_scale": "scale",
        "label_shape": "shape",
        "label_orientation": "orientation",
    },
    "smallnorb": {
        "label_category": "category",
        "instance": "instance",  # tfds names it without the label_ prefix
        "label_elevation": "elevation",
        "label_azimuth": "azimuth",
        "label_lighting": "lighting",
    },
}
FACTORS_NUM_VALUES = {
    "dsprites": [3, 6, 40, 32, 32],
    "shapes3d": [10, 10, 10, 8, 4, 15],
    "smallnorb": [5, 10, 9, 18, 6],
}
# smallnorb's train and test splits hold different instances (5 each); the
# full factor grid needs both.
DEFAULT_SPLITS = {
    "dsprites": "train",
    "shapes3d": "train",
    "smallnorb": "train+test",
}
DOWNLOAD_HOSTS = {
    "dsprites": "github.com",
    "shapes3d": "storage.googleapis.com",
    "smallnorb": "cs.nyu.edu",
}


class DataUnavailableError(RuntimeError):
    """The dataset is not prepared locally and cannot be downloaded."""


def load_tfds(
    name, data_dir=None, split=None, download=True, image_size="default",
    network_timeout=3.0, batch_size=2048,
):
    """Loads a tfds split into memory as an `ArrayGroundTruthData`.

    Images are indexed by their factors (the tfds labels). Pixel values:
    shapes3d and smallnorb are uint8 0..255 and scaled by 1/255; real dSprites
    stores 0/1, so for dsprites every value > 0 becomes 1 (the images are
    kept bit-packed: 377 MB for the full set). `tfds.testing.mock_data`
    yields random 0..254 pixels, which this turns into mostly-white noise.

    When the prepared dataset is not in `data_dir`, this checks that the
    download host answers within `network_timeout` seconds before
    downloading, and otherwise raises `DataUnavailableError` with
    instructions, instead of letting tfds retry for minutes.

    Args:
        name: "dsprites", "shapes3d" or "smallnorb".
        data_dir: tfds data directory (default: tfds's, `TFDS_DATA_DIR` or
            `~/tensorflow_datasets`).
        split: tfds split; defaults to "train" ("train+test" for smallnorb,
            whose splits hold disjoint instances).
        download: whether to download and prepare a missing dataset.
        image_size: side to resize square images to; "default" resizes
            smallnorb (96 x 96, left camera `image` only) to 64 as in
            disentanglement_lib and keeps the others; None never resizes.
        network_timeout: seconds allowed to reach the download host.
        batch_size: examples read at a time.

    Returns:
        An `ArrayGroundTruthData` with the factor names and sizes of the
        dataset.

    Example:

    ```python
    shapes = load_tfds("shapes3d", data_dir="/data/tfds")
    x = shapes.sample_observations(64, np.random.RandomState(0))
    ```
    """
    if name not in TFDS_FACTORS:
        raise ValueError(
            f"Unknown tfds dataset {name!r}; known: {sorted(TFDS_FACTORS)}."
        )
    from keras_factorvae.extras import require

    tfds = require("tensorflow_datasets")  # the [tfds] extra brings tensorflow too
    tf = require("tensorflow")

    split = split or DEFAULT_SPLITS[name]
    if image_size == "default":
        image_size = 64 if name == "smallnorb" else None

    builder = tfds.builder(name, data_dir=data_dir)
    if not builder.is_prepared():
        where = f"{builder.data_dir!r}"
        how = (
            "To get it, on a machine with internet access run\n"
            f"    python -c \"import tensorflow_datasets as tfds; "
            f"tfds.builder('{name}', data_dir='DIR').download_and_prepare()\"\n"
            "copy DIR here and pass data_dir=DIR (or set TFDS_DATA_DIR)."
        )
        if name == "dsprites":
            how += " Or use the procedural set: load('dsprites')."
        if not download:
            raise DataUnavailableError(
                f"tfds dataset {name!r} is not prepared at {where} and "
                f"download=False. {how}"
            )
        host = DOWNLOAD_HOSTS[name]
        if not network_available(host, timeout=network_timeout):
            raise DataUnavailableError(
                f"tfds dataset {name!r} is not prepared at {where} and its "
                f"download host {host} cannot be reached (no answer within "
                f"{network_timeout} s). {how}"
            )
        builder.download_and_prepare()

    keys = list(TFDS_FACTORS[name])
    try:  # known when prepared: fill one array instead of concatenating
        total = int(builder.info.splits[split].num_examples) or None
    except Exception:  # e.g. under tfds.testing.mock_data
        total = None
    images = _Stack(total)
    factors = []
    ds = builder.as_dataset(
        split=split, batch_size=batch_size, shuffle_files=False
    )
    for batch in tfds.as_numpy(ds):
        image = batch["image"]
        if image_size is not None and image.shape[1:3] != (image_size,) * 2:
            image = tf.image.resize(
                image, (image_size, image_size), antialias=True
            )
            image = np.clip(np.round(image.numpy()), 0, 255).astype(np.uint8)
        if name == "dsprites":
            image = PackedBinaryImages.pack(image).packed
        images.append(image)
        factors.append(np.stack([batch[k] for k in keys], axis=-1))
    if not factors:
        raise DataUnavailableError(f"tfds split {name}/{split} is empty.")
    images = images.result()
    if name == "dsprites":
        images = PackedBinaryImages(images, (len(images), 64, 64, 1))
    return ArrayGroundTruthData(
        images,
        np.concatenate(factors).astype(np.int64),
        factor_names=list(TFDS_FACTORS[name].values()),
        factors_num_values=FACTORS_NUM_VALUES[name],
    )


class _Stack:
    """Concatenates batches; into one preallocated array if `total` is known."""

    def __init__(self, total):
        self.total, self.parts, self.out, self.size = total, [], None, 0

    def append(self, batch):
        if self.total is not None and self.parts == []:
            if self.out is None:
                shape = (self.total,) + batch.shape[1:]
                self.out = np.empty(shape, batch.dtype)
            if self.size + len(batch) <= self.total:
                self.out[self.size : self.size + len(batch)] = batch
                self.size += len(batch)
                return
            self.parts.append(self.out[: self.size])  # more than announced
        self.parts.append(batch)

    def result(self):
        if not self.parts:
            return self.out[: self.size]
        return np.concatenate(self.parts)


def network_available(host, port=443, timeout=3.0):
    """Whether `https://host:port/` answers within `timeout` seconds.

    Any HTTP answer counts, errors included; a failed name lookup, refused
    connection, failed certificate check (e.g. an intercepting proxy) or
    silence does not. Runs in a daemon thread, so that no step (the DNS
    lookup included) can outlast the timeout.
    """
    import urllib.error
    import urllib.request

    result = []

    def request():
        url = f"https://{host}:{port}/"
        try:
            urllib.request.urlopen(
                urllib.request.Request(url, method="HEAD"), timeout=timeout
            ).close()
            result.append(True)
        except urllib.error.HTTPError:
            result.append(True)  # the server answered
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result)
