"""The names the command line offers, without importing what they name.

Building the parsers (and so `--help`) must not import Keras or a backend;
the registries these names come from (`models.MODELS`, `metrics.METRICS`,
`datasets.KNOWN_DATASETS`) live in modules that do. tests/test_cli.py checks
that each tuple here equals its registry.
"""

# keras_factorvae.models.MODELS, sorted.
MODELS = ("annealed_vae", "beta_tcvae", "beta_vae", "dip_vae", "factorvae", "vae")

# keras_factorvae.metrics.METRICS, in its order.
METRICS = ("beta_vae_score", "factor_vae_score", "mig", "dci", "sap_score",
           "modularity_explicitness", "irs", "unsupervised")

# keras_factorvae.datasets.KNOWN_DATASETS: source -> dataset names.
DATASETS = {
    "procedural": ("dsprites", "color_dsprites", "noisy_dsprites"),
    "tfds": ("dsprites", "shapes3d", "smallnorb"),
}
