"""Compiler and kernel settings per backend; see
`keras_factorvae.backend.compile_options`, where they live.

Kept at this path for code that imports `keras_factorvae.compile_options`.
"""

from keras_factorvae.backend.compile_options import CPU_OPTIONS  # noqa: F401
from keras_factorvae.backend.compile_options import jax_compiler_options  # noqa: F401
from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn  # noqa: F401
