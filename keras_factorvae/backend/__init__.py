"""What differs per Keras backend, behind small named functions.

Code elsewhere in the package calls these instead of asking which backend
is active. (The training step's branches live in `models/train_step.py`.)
"""

from keras_factorvae.backend.seeding import set_random_seed

__all__ = ["set_random_seed"]
