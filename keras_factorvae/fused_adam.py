"""Keras' Adam update, fused where the backend allows; see
`keras_factorvae.backend.fused_adam`, where it lives.

Kept at this path for code that imports `keras_factorvae.fused_adam`.
"""

from keras_factorvae.backend.fused_adam import apply_gradients  # noqa: F401
