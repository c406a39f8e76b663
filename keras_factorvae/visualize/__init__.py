"""Pictures of what a model learned: latent traversals, reconstructions,
prior samples, per-dimension KL and training / sweep curves.

Every function returns its picture as a float32 numpy array in [0, 1] of
shape `(height, width, 3)` (a GIF: `(frames, height, width, 3)`), so that
notebooks can show it with `plt.imshow`, and writes a file when given a
`path` (PNG, or any format Pillow knows from the extension; GIF for
`traversal_gif`). Plots are drawn with matplotlib's object API on an Agg
canvas: the pyplot state and the notebook's backend are left alone.

Images are laid out as tiles on a grey background. In a traversal, one row
per latent dimension, ordered by the dimension's KL to the prior (most
informative first); inactive dimensions (KL below `inactive_kl` nats) are
dimmed and get a red bar at their left edge.

Modules: `inference` (input images, batched encoding / decoding, KL),
`images` (tile grids, labels, PNG / GIF files), `traversals`, `samples`
(reconstructions, prior samples) and `plots` (matplotlib figures).

Example:

```python
import keras_factorvae as kfv

data = kfv.datasets.load("dsprites")
x = data.sample_observations(256, np.random.RandomState(0))
grid, info = kfv.visualize.traversal_grid(model, x, mode="sigma",
                                          path="traversal.png")
info["inactive"]            # e.g. [2, 5, 7]: dims with KL < 0.1 nats
kfv.visualize.traversal_gif(model, x, path="traversal.gif")
kfv.visualize.plot_kl(model, x, path="kl.png")
```
"""

from keras_factorvae.visualize.images import save_gif
from keras_factorvae.visualize.images import save_image
from keras_factorvae.visualize.images import tile_images
from keras_factorvae.visualize.inference import as_images
from keras_factorvae.visualize.inference import decode
from keras_factorvae.visualize.inference import kl_to_prior
from keras_factorvae.visualize.inference import per_dimension_kl
from keras_factorvae.visualize.inference import posterior_stats
from keras_factorvae.visualize.plots import load_history
from keras_factorvae.visualize.plots import plot_history
from keras_factorvae.visualize.plots import plot_kl
from keras_factorvae.visualize.plots import plot_metric_vs_gamma
from keras_factorvae.visualize.samples import prior_samples
from keras_factorvae.visualize.samples import reconstructions
from keras_factorvae.visualize.traversals import MODES
from keras_factorvae.visualize.traversals import traversal_gif
from keras_factorvae.visualize.traversals import traversal_grid
from keras_factorvae.visualize.traversals import traversal_values
