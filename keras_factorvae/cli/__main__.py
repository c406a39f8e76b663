"""`python -m keras_factorvae.cli ...`: the same as `python -m keras_factorvae`."""

import sys

from keras_factorvae.cli import main

if __name__ == "__main__":
    sys.exit(main())
