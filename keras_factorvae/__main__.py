"""`python -m keras_factorvae ...`: the `keras-factorvae` command line."""

import sys

from keras_factorvae.cli import main

if __name__ == "__main__":
    sys.exit(main())
