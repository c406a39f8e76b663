"""Our FactorVAE and the PyTorch twin in lockstep: same weights, same noise.

`benchmarks/twin_compare.py` trains both implementations from their own
initial weights with their own noise, so two runs can only be compared
statistically. This script removes every source of difference but the code:

1. builds `FactorVAE(latent_dim=10, input_shape=(64, 64, 1),
   preset="conv_paper", gamma=35, discriminator_layers=6, seed=0)` with the
   default `compile()` and a `TwinFactorVAE` (benchmarks/twin_torch.py), and
   copies every weight of ours into the twin (`copy_ours_to_twin`; the
   layouts differ, see `param_map`), then checks that the encoder, decoder
   and discriminator give the same outputs on the same inputs;
2. replaces the noise of both by the same pre-drawn numpy arrays
   (`SharedNoise`): the reparameterisation noise of batch `x` (VAE update)
   and of batch `x2` (discriminator update), and the per-column permutation
   of the discriminator update. Ours draws them in
   `keras_factorvae.losses.sample_gaussian` / `losses.permute_dims` (called
   by `BaseVAE._vae_loss` and `FactorVAE._discriminator_loss` through the
   module, so patching the module attribute reaches them); the twin in
   `TwinFactorVAE.sample` and `twin_torch.permute_dims`. The patched
   functions read the arrays from non-trainable variables attached to our
   model and assigned before every step, so they also work inside a
   compiled step (`tf.function`, JAX's `jit`), where the Python of the
   patch runs once, at tracing;
3. trains both on the same paired batches (`DSprites().as_py_dataset(
   batch_size=64, paired=True, seed=0, ...)`, as twin_compare does): ours
   through `fit` (the twin steps inside a callback, after each of our steps;
   not on JAX, whose `fit` keeps the variables in its own state) or
   `train_on_batch`, and after every step compares every logged loss, the
   weights of the encoder, decoder and discriminator, and both Adams' moment
   estimates (raw `m` and `v`; Keras and torch keep the same un-corrected
   running averages). `--sync` gives the twin our weights and Adam state
   before every step, so that each step is compared from the same point
   (and the step's gradients can be compared too).

Differences (see `compare_state`): `weights` relative to the group's largest
weight; `updates` (the change since the common start, what the optimisers
did), `adam_m`, `adam_v` and, with `--sync`, `grad` as `max |a - b| / max |b|`
per tensor, the largest over the group; `updates_norm` and `grad_norm` as
`||a - b|| / ||b||` over the whole group. `--noise-floor` also trains the
twin against a copy of itself moved by one float32 ulp (`noise_floor`): what
rounding alone grows into.

Findings (TensorFlow graph step with the fused Adam, eager, JAX and torch
all behave alike; numbers for TensorFlow, `--feed fit --mode graph`):

- Forward passes agree to 5e-7 (encoder), 0 (decoder), 1e-6
  (discriminator).
- With torch's own Adam in the twin (`--twin-adam-epsilon torch`, what
  twin_compare runs) the first step already differs: same losses and
  gradients (1e-6..1e-5), but updates differ by up to 0.7 lr (group norm
  8e-2 encoder, 2e-2 decoder and discriminator). Torch adds Adam's epsilon
  to the bias-corrected `sqrt(v_hat)`; Keras (like TensorFlow and so the
  paper's and disentanglement_lib's Adam) to `sqrt(v)`, i.e. in torch's
  terms an epsilon of `1e-8 / sqrt(1 - beta_2^t)` (3.2e-7 at the VAE's first
  step, 1.3e-8 at step 1000). Only weights whose gradients are below ~1e-6
  feel it, and only during the first thousand or so VAE steps.
- With the twin's `adam_epsilon="keras"` both agree to float32 rounding for
  20 steps: losses to <= 2e-6 relative (tc_loss, a small difference of
  logits, 6e-3 at step 20); update differences (group norm) 1e-5..1e-4 for
  the first ten steps, at step 20 1e-3 (encoder), 2e-4 (decoder) and 3e-2
  (discriminator), below the one-ulp noise floor (3e-2, 7e-4, 3e-1). Step by step (`--sync`),
  gradients agree to ~1e-6, except at steps where one ReLU / LeakyReLU input
  lies within rounding of 0 (|x| ~ 1e-8) and flips side (gradient group norm
  up to 5e-3).
- `fit` trains on the batch plan's epoch `ds.epoch + 1`: Keras' epoch
  iterator calls the `PyDataset`'s `on_epoch_end` when `fit` starts (every
  backend), so twin_compare's ours trains on epochs 1..5 of the plan and the
  twin on 0..4 (the same distribution, other batches).
- The metric call path is not a difference: the twin's weights copied into
  our model score the same through `model.encode` and `twin.encode`
  (`--metric-path-steps`).

    KERAS_BACKEND=tensorflow OMP_NUM_THREADS=1 taskset -c 1 \\
      .venv/bin/python benchmarks/twin_lockstep.py --steps 20 --noise-floor

Options: `--mode eager` (`run_eagerly=True`) or `graph` (the compiled step
twin_compare runs, with the fused Adam on TensorFlow); `--feed fit` or
`batch`; `--sync`; `--twin-adam-epsilon torch`; `--metric-path-steps N`;
`--json PATH` writes the per-step table. tests/test_twin_lockstep.py runs a
few steps of this under pytest.
"""

import argparse
import contextlib
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the sibling script twin_torch

LOSS_KEYS = ("loss", "reconstruction_loss", "kl_loss", "tc_loss",
             "discriminator_loss", "discriminator_accuracy")
GROUPS = ("encoder", "decoder", "discriminator")


def load_twin():
    import twin_torch

    return twin_torch


# --------------------------------------------------------------------------
# Weight layouts
# --------------------------------------------------------------------------

def _conv(k):  # Keras Conv2D (h, w, in, out) -> torch Conv2d (out, in, h, w)
    return np.transpose(k, (3, 2, 0, 1))


def _conv_inv(w):
    return np.transpose(w, (2, 3, 1, 0))


# Keras Conv2DTranspose (h, w, out, in) -> torch ConvTranspose2d
# (in, out, h, w). No spatial flip: both are the transpose (gradient) of the
# same cross-correlation, and "same" padding of a 4x4 stride-2 kernel on an
# even size pads one pixel per side, torch's `padding=1`.
def _deconv(k):
    return np.transpose(k, (3, 2, 0, 1))


def _deconv_inv(w):
    return np.transpose(w, (2, 3, 1, 0))


def _dense(k):  # Keras (in, out) -> torch (out, in)
    return np.ascontiguousarray(k.T)


def _dense_inv(w):
    return np.ascontiguousarray(w.T)


def _identity(b):
    return b


# Ours flattens the encoder's last (4, 4, 64) feature map channels-last
# (h, w, c), the twin its NCHW tensor (c, h, w); the decoder's Dense d2 feeds
# a Reshape((4, 4, 64)) in ours, a view(-1, 64, 4, 4) in the twin. The
# weights next to those reshapes are permuted accordingly.
def _flat_in(k, side=4, c=64):
    out = k.shape[1]
    return np.ascontiguousarray(
        k.reshape(side, side, c, out).transpose(3, 2, 0, 1).reshape(out, -1))


def _flat_in_inv(w, side=4, c=64):
    out = w.shape[0]
    return np.ascontiguousarray(
        w.reshape(out, c, side, side).transpose(2, 3, 1, 0).reshape(-1, out))


def _flat_out(k, side=4, c=64):
    n_in = k.shape[0]
    return np.ascontiguousarray(
        k.reshape(n_in, side, side, c).transpose(3, 1, 2, 0).reshape(-1, n_in))


def _flat_out_inv(w, side=4, c=64):
    n_in = w.shape[1]
    return np.ascontiguousarray(
        w.reshape(c, side, side, n_in).transpose(3, 1, 2, 0).reshape(n_in, -1))


def _flat_bias(b, side=4, c=64):
    return np.ascontiguousarray(b.reshape(side, side, c).transpose(2, 0, 1).ravel())


def _flat_bias_inv(b, side=4, c=64):
    return np.ascontiguousarray(b.reshape(c, side, side).transpose(1, 2, 0).ravel())


def param_map(model, twin):
    """`[(group, keras variable, torch parameter, to_torch, to_keras)]`.

    Every trainable variable of ours appears exactly once (checked).
    """
    enc, dec, disc = model.encoder, model.decoder, model.discriminator
    rows = []
    for i in range(4):
        layer, conv = enc.get_layer(f"e{i + 1}"), twin.encoder.convs[i]
        rows += [("encoder", layer.kernel, conv.weight, _conv, _conv_inv),
                 ("encoder", layer.bias, conv.bias, _identity, _identity)]
    rows += [
        ("encoder", enc.get_layer("e5").kernel, twin.encoder.fc.weight,
         _flat_in, _flat_in_inv),
        ("encoder", enc.get_layer("e5").bias, twin.encoder.fc.bias,
         _identity, _identity),
        ("encoder", enc.get_layer("stats").kernel, twin.encoder.stats.weight,
         _dense, _dense_inv),
        ("encoder", enc.get_layer("stats").bias, twin.encoder.stats.bias,
         _identity, _identity),
        ("decoder", dec.get_layer("d1").kernel, twin.decoder.fc1.weight,
         _dense, _dense_inv),
        ("decoder", dec.get_layer("d1").bias, twin.decoder.fc1.bias,
         _identity, _identity),
        ("decoder", dec.get_layer("d2").kernel, twin.decoder.fc2.weight,
         _flat_out, _flat_out_inv),
        ("decoder", dec.get_layer("d2").bias, twin.decoder.fc2.bias,
         _flat_bias, _flat_bias_inv),
    ]
    for i, name in enumerate(("d3", "d4", "d5", "logits")):
        layer, deconv = dec.get_layer(name), twin.decoder.deconvs[i]
        rows += [("decoder", layer.kernel, deconv.weight, _deconv, _deconv_inv),
                 ("decoder", layer.bias, deconv.bias, _identity, _identity)]
    linears = [m for m in twin.discriminator.net if hasattr(m, "weight")]
    names = [f"dense_{i + 1}" for i in range(len(linears) - 1)] + ["logits"]
    for name, linear in zip(names, linears):
        layer = disc.get_layer(name)
        rows += [("discriminator", layer.kernel, linear.weight, _dense, _dense_inv),
                 ("discriminator", layer.bias, linear.bias, _identity, _identity)]
    ours = {id(v) for v in model.trainable_variables}
    mapped = {id(r[1]) for r in rows}
    if ours != mapped or len(rows) != len(mapped):
        raise AssertionError("param_map does not cover our variables one to one")
    torch_ids = {id(r[2]) for r in rows}
    twin_ids = {id(p) for p in twin.vae_params + twin.d_params}
    if torch_ids != twin_ids:
        raise AssertionError("param_map does not cover the twin's parameters")
    return rows


def _np(variable):
    """A copy: TensorFlow's `.numpy()` may share the buffer that the next
    update overwrites in place (a snapshot would then move with it)."""
    from keras import ops

    return np.array(ops.convert_to_numpy(variable), dtype=np.float32, copy=True)


def copy_ours_to_twin(model, twin):
    import torch

    with torch.no_grad():
        for _, var, param, to_torch, _ in param_map(model, twin):
            value = torch.as_tensor(to_torch(_np(var)))
            if tuple(value.shape) != tuple(param.shape):
                raise ValueError(f"{var.path}: {value.shape} vs {param.shape}")
            param.copy_(value)


def copy_twin_to_ours(twin, model):
    for _, var, param, _, to_keras in param_map(model, twin):
        var.assign(to_keras(param.detach().cpu().numpy()))


# --------------------------------------------------------------------------
# Forward check
# --------------------------------------------------------------------------

def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / scale) if scale > 0 else float(
        np.max(np.abs(a - b)))


def forward_differences(model, twin, x, z):
    """Relative output differences of the three networks on `x` and `z`."""
    import torch
    from keras import ops

    mean, logvar = model.encode_stats(x)
    with torch.no_grad():
        t_mean, t_logvar = twin.encoder(twin.to_torch(x))
        t_logits = twin.decoder(torch.as_tensor(z)).permute(0, 2, 3, 1).numpy()
        t_disc = twin.discriminator(torch.as_tensor(z)).numpy()
    return {
        "encoder_mean": _rel(ops.convert_to_numpy(mean), t_mean.numpy()),
        "encoder_logvar": _rel(ops.convert_to_numpy(logvar), t_logvar.numpy()),
        "decoder": _rel(ops.convert_to_numpy(model.decoder(z)), t_logits),
        "discriminator": _rel(ops.convert_to_numpy(model.discriminator(z)),
                              t_disc),
    }


# --------------------------------------------------------------------------
# Shared noise
# --------------------------------------------------------------------------

class SharedNoise:
    """The same reparameterisation noise and permutations for both.

    Step `k`'s arrays are a pure function of `(seed, k)`: `eps_x` and
    `eps_x2` (standard normal, `(batch, latent)`, float32) and `order`
    (`(batch, latent)` int32, column `j` a uniform random permutation of the
    batch). `set_step(k)` puts them into variables (of a layer `attach`ed
    to our model), which the patched functions read at run time, eagerly or
    inside a compiled step; the twin's patches read the numpy arrays.
    """

    def __init__(self, batch=64, latent=10, seed=0):
        import keras

        self.batch, self.latent, self.seed = batch, latent, seed
        shape = (batch, latent)

        class NoiseHolder(keras.layers.Layer):
            """Holds the noise variables; attached to our model so that they
            are part of its (non-trainable) state, which JAX's compiled step
            reads from its state tuple rather than as traced constants."""

            def __init__(self):
                super().__init__(name="lockstep_noise", trainable=False)
                self.eps = [self.add_weight(
                    shape=shape, initializer="zeros", trainable=False,
                    name=f"eps_{i}") for i in range(2)]
                self.order = self.add_weight(
                    shape=shape, initializer="zeros", trainable=False,
                    dtype="int32", name="order")
                self.built = True

        self.holder = NoiseHolder()
        self.eps_vars = self.holder.eps
        self.order_var = self.holder.order
        self.step = None
        self.arrays = None
        self.calls = {"ours_sample": 0, "ours_permute": 0,
                      "twin_sample": 0, "twin_permute": 0}

    def attach(self, model):
        """Makes the noise variables part of `model`'s state.

        A model that already holds a `SharedNoise`'s variables keeps them
        (this one adopts them): a compiled step traced with them reads them
        again, and JAX's step is not recompiled for a new state layout.
        """
        held = getattr(model, "lockstep_noise", None)
        if held is not None and held.name == self.holder.name:
            self.holder = held
            self.eps_vars, self.order_var = held.eps, held.order
            return
        model.lockstep_noise = self.holder
        ids = {id(v) for v in model.non_trainable_variables}
        if not all(id(v) in ids for v in self.holder.weights):
            raise AssertionError("the noise variables are not in the model's state")

    def draw(self, step):
        rng = np.random.RandomState([self.seed, step])
        eps_x = rng.standard_normal((self.batch, self.latent)).astype(np.float32)
        eps_x2 = rng.standard_normal((self.batch, self.latent)).astype(np.float32)
        order = np.argsort(rng.rand(self.batch, self.latent), axis=0)
        return {"eps_x": eps_x, "eps_x2": eps_x2,
                "order": order.astype(np.int32)}

    def set_step(self, step):
        self.step, self.arrays = step, self.draw(step)
        self.eps_vars[0].assign(self.arrays["eps_x"])
        self.eps_vars[1].assign(self.arrays["eps_x2"])
        self.order_var.assign(self.arrays["order"])
        self._twin_sample_calls = 0

    # --- ours (keras.ops) ---

    def ours_sample_gaussian(self, original):
        from keras import ops

        def sample_gaussian(mean, logvar, seed):
            if seed is None:
                return original(mean, logvar, seed)
            # Per step: first call the VAE update's batch x, second the
            # discriminator update's x2. Counted at Python level, so in a
            # compiled step at tracing, where the order is the same.
            which = self.calls["ours_sample"] % 2
            self.calls["ours_sample"] += 1
            eps = ops.cast(self.eps_vars[which].value, mean.dtype)
            return mean + ops.exp(0.5 * logvar) * eps

        return sample_gaussian

    def ours_permute_dims(self, original):
        from keras import ops

        def permute_dims(z, seed):
            if seed is None:
                return original(z, seed)
            self.calls["ours_permute"] += 1
            return ops.take_along_axis(
                ops.convert_to_tensor(z), self.order_var.value, axis=0)

        return permute_dims

    # --- the twin (torch) ---

    def twin_sample(self, mean, logvar):
        import torch

        key = "eps_x" if self._twin_sample_calls % 2 == 0 else "eps_x2"
        self._twin_sample_calls += 1
        self.calls["twin_sample"] += 1
        return mean + torch.exp(0.5 * logvar) * torch.as_tensor(self.arrays[key])

    def twin_permute_dims(self, z, generator=None):
        import torch

        self.calls["twin_permute"] += 1
        order = torch.as_tensor(self.arrays["order"].astype(np.int64))
        return torch.gather(z, 0, order)


@contextlib.contextmanager
def shared_noise(noise, twin, twin_module):
    """Routes both implementations' noise through `noise` while active."""
    from keras_factorvae import losses

    saved = (losses.sample_gaussian, losses.permute_dims,
             twin_module.permute_dims)
    losses.sample_gaussian = noise.ours_sample_gaussian(saved[0])
    losses.permute_dims = noise.ours_permute_dims(saved[1])
    twin_module.permute_dims = noise.twin_permute_dims
    twin.sample = noise.twin_sample  # instance attribute shadows the method
    try:
        yield noise
    finally:
        losses.sample_gaussian, losses.permute_dims = saved[0], saved[1]
        twin_module.permute_dims = saved[2]
        del twin.sample


# --------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------

def _keras_slots(optimizer, variable):
    i = optimizer._get_variable_index(variable)
    return _np(optimizer._momentums[i]), _np(optimizer._velocities[i])


def _torch_slots(optimizer, param):
    state = optimizer.state.get(param, {})
    if "exp_avg" not in state:
        return None, None
    return (state["exp_avg"].detach().numpy(),
            state["exp_avg_sq"].detach().numpy())


def _optimizers(model, twin):
    """`{group: (our Adam, the twin's Adam)}`."""
    pairs = {"discriminator": (model.optimizer.discriminator_optimizer,
                               twin.d_optimizer)}
    for g in ("encoder", "decoder"):
        pairs[g] = (model.optimizer.vae_optimizer, twin.vae_optimizer)
    return pairs


def snapshot(model, twin):
    """Our weights and Adam first moments, in the twin's layout (numpy)."""
    weights, moments = [], []
    opts = _optimizers(model, twin)
    for group, var, _, to_torch, _ in param_map(model, twin):
        weights.append(to_torch(_np(var)))
        moments.append(to_torch(_keras_slots(opts[group][0], var)[0]))
    return weights, moments


def sync_twin_to_ours(model, twin):
    """Gives the twin our weights and both Adams' state (m, v, step)."""
    import torch

    copy_ours_to_twin(model, twin)
    opts = _optimizers(model, twin)
    with torch.no_grad():
        for group, var, param, to_torch, _ in param_map(model, twin):
            k_opt, t_opt = opts[group]
            steps = int(_np(k_opt.iterations))
            if steps == 0:
                t_opt.state.pop(param, None)
                continue
            m, v = _keras_slots(k_opt, var)
            # `empty_like`: the moments must share the parameter's memory
            # layout (channels_last convolutions), which torch's fused Adam
            # walks as flat memory.
            t_opt.state[param] = {
                "step": torch.tensor(float(steps), dtype=torch.float32),
                "exp_avg": torch.empty_like(param).copy_(
                    torch.as_tensor(to_torch(m))),
                "exp_avg_sq": torch.empty_like(param).copy_(
                    torch.as_tensor(to_torch(v)))}


def compare_state(model, twin, reference):
    """Per group: relative weight, update, gradient and Adam differences.

    Args:
        reference: `snapshot(...)` of the common starting point: the
            initial state (free-running lockstep) or the state before this
            step (`sync`).

    `weights`: `max |a - b|` over the group's tensors divided by the group's
    largest weight (biases start at 0, so a per-tensor ratio would measure
    their updates). `updates`, `adam_m`, `adam_v`: `max |a - b| / max |b|`
    per tensor, the largest over the group; `updates` is the change since
    `reference`. `grad` and `grad_norm` (only where `reference` holds both
    sides' previous first moment, i.e. `sync` steps): the step's gradient,
    recovered as `(m_t - beta_1 m_{t-1}) / (1 - beta_1)`, per tensor
    `max |a - b| / max |b|` (largest over the group) and
    `||a - b|| / ||b||` over the whole group. `updates_norm`: the same
    group-wide norm ratio for the updates, robust to the few elements whose
    update a rounding flip of a near-zero gradient (Adam normalises it to
    ~lr) or of a ReLU / LeakyReLU input at ~1e-8 changes by up to 2 lr.
    """
    rows = param_map(model, twin)
    ref_weights, ref_moments = reference
    out = {g: {"weights": 0.0, "updates": 0.0, "adam_m": 0.0, "adam_v": 0.0}
           for g in GROUPS}
    norms = {g: [0.0, 0.0] for g in GROUPS}
    update_norms = {g: [0.0, 0.0] for g in GROUPS}
    scale = {g: max(float(np.max(np.abs(p.detach().numpy())))
                    for gg, _, p, _, _ in rows if gg == g) for g in GROUPS}
    opts = _optimizers(model, twin)
    for k, (group, var, param, to_torch, _) in enumerate(rows):
        a = to_torch(_np(var))
        b = param.detach().numpy()
        d = out[group]
        d["weights"] = max(d["weights"],
                           float(np.max(np.abs(a - b))) / scale[group])
        d["updates"] = max(d["updates"],
                           _rel(a - ref_weights[k], b - ref_weights[k]))
        da = np.asarray(a, np.float64) - ref_weights[k]
        db = np.asarray(b, np.float64) - ref_weights[k]
        update_norms[group][0] += float(np.sum((da - db) ** 2))
        update_norms[group][1] += float(np.sum(db ** 2))
        k_opt, t_opt = opts[group]
        km, kv = _keras_slots(k_opt, var)
        tm, tv = _torch_slots(t_opt, param)
        if tm is None:
            continue
        km, kv = to_torch(km), to_torch(kv)
        d["adam_m"] = max(d["adam_m"], _rel(km, tm))
        d["adam_v"] = max(d["adam_v"], _rel(kv, tv))
        if ref_moments is not None:
            beta_1 = float(k_opt.beta_1)
            m0 = np.asarray(ref_moments[k], np.float64)
            ga = (km - beta_1 * m0) / (1 - beta_1)
            gb = (tm - beta_1 * m0) / (1 - beta_1)
            d["grad"] = max(d.get("grad", 0.0), _rel(ga, gb))
            norms[group][0] += float(np.sum((ga - gb) ** 2))
            norms[group][1] += float(np.sum(gb ** 2))
    for g, (num, den) in norms.items():
        if den > 0:
            out[g]["grad_norm"] = float(np.sqrt(num / den))
    for g, (num, den) in update_norms.items():
        out[g]["updates_norm"] = float(np.sqrt(num / den)) if den > 0 else 0.0
    return out


def compare_logs(ours, theirs):
    return {k: {"ours": float(ours[k]), "twin": float(theirs[k]),
                "rel": abs(float(ours[k]) - float(theirs[k]))
                / max(abs(float(theirs[k])), 1e-12)}
            for k in LOSS_KEYS if k in ours and k in theirs}


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

def build(seed=0, gamma=35.0, mode="eager", data=None, adam_epsilon="keras"):
    """Our model, the twin with our weights, the twin module and the data.

    `adam_epsilon` is the twin's (see twin_torch): `"keras"` makes its Adam
    update Keras' exactly, so that what remains is the rest of the step;
    `"torch"` is torch's own Adam, as in twin_compare.
    """
    from keras_factorvae import FactorVAE
    from keras_factorvae import datasets
    from keras_factorvae import reporting

    twin_module = load_twin()
    reporting.set_random_seed(seed)
    model = FactorVAE(latent_dim=10, input_shape=(64, 64, 1),
                      preset="conv_paper", gamma=gamma,
                      discriminator_layers=6, seed=seed)
    model.compile(run_eagerly=(mode == "eager"))
    twin = twin_module.TwinFactorVAE(latent_dim=10, gamma=gamma,
                                     discriminator_layers=6, seed=seed,
                                     adam_epsilon=adam_epsilon)
    copy_ours_to_twin(model, twin)
    data = data if data is not None else datasets.DSprites()
    return model, twin, twin_module, data


def lockstep(model, twin, twin_module, data, steps, seed=0, batch_size=64,
             feed="fit", sync=False, report=None):
    """Trains both `steps` steps in lockstep; returns the per-step records.

    Args:
        feed: `"fit"` (ours through `model.fit` on the PyDataset, the twin
            stepped by a callback after each of our steps) or `"batch"`
            (`train_on_batch`, whose logs are exactly this step's).
        sync: before every step give the twin our weights and Adam state
            (`sync_twin_to_ours`), so that each step is compared from the
            same point and differences cannot accumulate: this isolates a
            per-step algorithm difference from the chaotic growth of float32
            rounding. Without it both run freely from the same start.
        report: optional callable, given every step's record.
    """
    import keras

    if feed == "fit" and keras.backend.backend() == "jax":
        # JAX's `fit` keeps the variables in its state tuple between
        # callbacks: neither the noise assigned before a step nor our
        # weights after it are visible there.
        raise ValueError("on JAX use feed='batch' (train_on_batch)")
    noise = SharedNoise(batch_size, model.latent_dim, seed)
    noise.attach(model)
    ds = data.as_py_dataset(batch_size=batch_size, paired=True, seed=seed,
                            steps_per_epoch=steps)
    records = []
    reference = [(snapshot(model, twin)[0], None)]

    def before_step(step):
        noise.set_step(step)
        if sync:
            sync_twin_to_ours(model, twin)
            reference[0] = snapshot(model, twin)

    def twin_step_and_compare(step, ours_logs):
        # `ds.epoch` as it is now, in `fit` too: Keras' TensorFlow adapter
        # reads batches 0, 0, 1 to infer the data's spec and then calls
        # `on_epoch_end` before training, so `fit` trains on the plan's epoch
        # `ds.epoch + 1`, not on `ds.epoch` (twin_compare's assumption).
        x, x2 = ds[step]
        twin_logs = twin.train_step(x, x2)
        rec = {"step": step + 1, "plan_epoch": ds.epoch,
               "losses": compare_logs(ours_logs, twin_logs),
               "state": compare_state(model, twin, reference[0])}
        records.append(rec)
        if report:
            report(rec)

    with shared_noise(noise, twin, twin_module):
        if feed == "batch":
            for step in range(steps):
                before_step(step)
                x, x2 = ds[step]
                ours_logs = model.train_on_batch(x, x2, return_dict=True)
                twin_step_and_compare(step, ours_logs)
        elif feed == "fit":
            class Lockstep(keras.callbacks.Callback):
                """Sets step k's noise before our step k, then steps the twin.

                `fit`'s logs are running means over the epoch; this step's
                value is `k * mean_k - (k - 1) * mean_{k-1}`.
                """

                def __init__(self):
                    super().__init__()
                    self.previous = {}

                def on_train_batch_begin(self, batch, logs=None):
                    before_step(batch)

                def on_train_batch_end(self, batch, logs=None):
                    k = batch + 1
                    means = {key: float(v) for key, v in logs.items()}
                    step_logs = {key: k * v - (k - 1) * self.previous.get(key, 0.0)
                                 for key, v in means.items()}
                    self.previous = means
                    twin_step_and_compare(batch, step_logs)

            ds.epoch = 0
            model.fit(ds, epochs=1, verbose=0, shuffle=False,
                      callbacks=[Lockstep()])
        else:
            raise ValueError(f"feed must be 'fit' or 'batch', not {feed!r}")
    if noise.calls["twin_sample"] != 2 * steps or noise.calls["twin_permute"] != steps:
        raise AssertionError(f"the twin drew other noise than expected: {noise.calls}")
    if model.run_eagerly and (noise.calls["ours_sample"] != 2 * steps
                              or noise.calls["ours_permute"] != steps):
        raise AssertionError(f"ours drew other noise than expected: {noise.calls}")
    return records


def _twin_groups(twin):
    return ([("encoder", p) for p in twin.encoder.parameters()]
            + [("decoder", p) for p in twin.decoder.parameters()]
            + [("discriminator", p) for p in twin.discriminator.parameters()])


def twin_weights(twin):
    """Copies of the twin's network weights (`load_twin_weights` restores)."""
    return {name: {k: v.detach().clone()
                   for k, v in getattr(twin, name).state_dict().items()}
            for name in GROUPS}


def load_twin_weights(twin, weights):
    for name in GROUPS:
        getattr(twin, name).load_state_dict(weights[name])


def noise_floor(twin_module, weights, data, steps, seed=0, epoch=0,
                batch_size=64, gamma=35.0, adam_epsilon="keras", perturb=True,
                report=None):
    """Twin against twin: how far float32 rounding alone takes two runs.

    Two twins start from `weights` (`twin_weights` of a twin holding our
    initial weights), the second one moved by one float32 ulp
    (`np.nextafter`, in a random direction per element, like a rounding
    error) in every non-zero weight, and train on the same batches (epoch
    `epoch` of the plan) with the same noise. Their divergence is what
    rounding differences of ~1e-7 grow into through Adam (whose first steps
    are ~lr * sign(gradient), so a rounding flip of a tiny gradient moves a
    weight by up to 2 lr) and through the ReLU / LeakyReLU kinks: the
    yardstick for ours against the twin.

    Args:
        adam_epsilon: the twins' `adam_epsilon`, or a pair (first, second):
            `("keras", "torch")` with `perturb=False` measures what the
            epsilon placement alone does.
        perturb: move the second twin's weights by one ulp.

    Returns:
        Per-step records shaped like `lockstep`'s (`weights`, `updates`
        and `updates_norm` as in `compare_state`; the second twin in the
        place of ours).
    """
    import torch

    if isinstance(adam_epsilon, str):
        adam_epsilon = (adam_epsilon, adam_epsilon)
    rng = np.random.RandomState(seed + 12345)
    twins = []
    for moved, epsilon in zip((False, perturb), adam_epsilon):
        twin = twin_module.TwinFactorVAE(latent_dim=10, gamma=gamma,
                                         discriminator_layers=6, seed=seed,
                                         adam_epsilon=epsilon)
        load_twin_weights(twin, weights)
        if moved:
            with torch.no_grad():
                for p in twin.vae_params + twin.d_params:
                    w = p.detach().numpy()
                    toward = np.where(rng.rand(*w.shape) < 0.5, -np.inf,
                                      np.inf).astype(np.float32)
                    # Zeros (the initial biases) stay: a denormal bias would
                    # open the ReLUs that sit exactly at 0 on dSprites' black
                    # background, a discrete change, not a rounding one.
                    p.copy_(torch.as_tensor(np.where(
                        w != 0, np.nextafter(w, toward), w)))
        twins.append(twin)
    a, b = twins
    initial = [[p.detach().numpy().copy() for _, p in _twin_groups(t)]
               for t in twins]
    noise = SharedNoise(batch_size, a.latent_dim, seed)
    ds = data.as_py_dataset(batch_size=batch_size, paired=True, seed=seed,
                            steps_per_epoch=steps)
    ds.epoch = epoch
    saved = twin_module.permute_dims
    twin_module.permute_dims = noise.twin_permute_dims
    a.sample = b.sample = noise.twin_sample
    records = []
    try:
        for step in range(steps):
            noise.set_step(step)
            x, x2 = ds[step]
            logs_a, logs_b = a.train_step(x, x2), b.train_step(x, x2)
            state = {g: {"weights": 0.0, "updates": 0.0} for g in GROUPS}
            scale = {g: 0.0 for g in GROUPS}
            sums = {g: [0.0, 0.0] for g in GROUPS}
            rows = list(zip(_twin_groups(a), _twin_groups(b), *initial))
            for (g, pa), _, _, _ in rows:
                scale[g] = max(scale[g], float(pa.detach().abs().max()))
            for (g, pa), (_, pb), wa, wb in rows:
                va, vb = pa.detach().numpy(), pb.detach().numpy()
                state[g]["weights"] = max(
                    state[g]["weights"], float(np.max(np.abs(va - vb))) / scale[g])
                state[g]["updates"] = max(state[g]["updates"],
                                          _rel(vb - wb, va - wa))
                d = (np.float64(1) * (vb - wb)) - (va - wa)
                sums[g][0] += float(np.sum(d ** 2))
                sums[g][1] += float(np.sum((np.float64(1) * (va - wa)) ** 2))
            for g, (num, den) in sums.items():
                state[g]["updates_norm"] = float(np.sqrt(num / den)) if den else 0.0
            rec = {"step": step + 1, "plan_epoch": epoch,
                   "losses": compare_logs(logs_b, logs_a), "state": state}
            records.append(rec)
            if report:
                report(rec)
    finally:
        twin_module.permute_dims = saved
    return records


def metric_paths(twin, model, data, seed=0, size="small",
                 metrics=("factor_vae_score", "mig")):
    """Scores the twin's weights through both of twin_compare's call paths.

    The twin's weights are copied into our model (`copy_twin_to_ours`);
    then `metrics.evaluate` scores `model` (which calls `model.encode`, as
    twin_compare does for ours) and `twin.encode` (twin_compare's path for
    the twin), with the same seed and sizes. Equal weights must give equal
    scores (up to a histogram bin or a vote flipped by ~1e-6 differences of
    the two encoders' float32 outputs).

    Returns:
        `{"ours_path": scores, "twin_path": scores, "max_code_difference"}`.
    """
    from keras_factorvae import metrics as metrics_lib
    from keras_factorvae import reporting

    copy_twin_to_ours(twin, model)
    x = data.sample_observations(512, np.random.RandomState(seed + 7))
    code_diff = float(np.max(np.abs(model.encode(x) - twin.encode(x))))
    overrides = reporting.metric_overrides(metrics, size)
    out = {"max_code_difference": code_diff}
    for name, representation in (("ours_path", model),
                                 ("twin_path", twin.encode)):
        out[name] = metrics_lib.evaluate(representation, data,
                                         metrics=metrics, seed=seed,
                                         **overrides)
    return out


def format_record(rec):
    parts = [f"step {rec['step']:3d}"
             + (f" (plan epoch {rec['plan_epoch']})" if "plan_epoch" in rec else "")]
    for k, v in rec["losses"].items():
        parts.append(f"{k} {v['ours']:.6g}/{v['twin']:.6g} ({v['rel']:.1e})")
    line = " | ".join(parts)
    state = "; ".join(
        f"{g}: w {d['weights']:.1e} dw {d['updates']:.1e} "
        f"|dw| {d['updates_norm']:.1e}"
        + (f" m {d['adam_m']:.1e} v {d['adam_v']:.1e}" if "adam_m" in d else "")
        + (f" g {d['grad']:.1e} |g| {d['grad_norm']:.1e}" if "grad" in d else "")
        for g, d in rec["state"].items())
    return line + "\n         " + state


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gamma", type=float, default=35.0)
    parser.add_argument("--mode", choices=("eager", "graph"), default="eager")
    parser.add_argument("--feed", choices=("fit", "batch"), default="fit")
    parser.add_argument("--twin-adam-epsilon", choices=("keras", "torch"),
                        default="keras",
                        help="the twin's Adam epsilon placement (twin_torch)")
    parser.add_argument("--sync", action="store_true",
                        help="give the twin our state before every step")
    parser.add_argument("--noise-floor", action="store_true",
                        help="also run twin against a 1-ulp-perturbed twin")
    parser.add_argument("--metric-path-steps", type=int, default=0,
                        help="train the twin alone this many steps (its own "
                        "noise), copy it into ours and score it through both "
                        "paths (metric_paths); 0: skip")
    parser.add_argument("--metric-size", default="small")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    # TensorFlow's oneDNN kernels on x86, before anything imports Keras.
    from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn

    prefer_tensorflow_onednn()
    import keras
    import torch

    torch.set_num_threads(args.threads)
    from learning_curve import configure_threads

    configure_threads(args.threads)
    model, twin, twin_module, data = build(args.seed, args.gamma, args.mode,
                                           adam_epsilon=args.twin_adam_epsilon)
    rng = np.random.RandomState(123)
    x = data.sample_observations(64, rng)
    z = rng.standard_normal((64, 10)).astype(np.float32) * 2
    fwd = forward_differences(model, twin, x, z)
    print(f"backend {keras.backend.backend()}, mode {args.mode}, feed "
          f"{args.feed}, sync {args.sync}, twin's Adam epsilon "
          f"{args.twin_adam_epsilon}; forward differences: "
          + ", ".join(f"{k} {v:.1e}" for k, v in fwd.items()), flush=True)
    start_weights = twin_weights(twin)
    start = time.time()
    records = lockstep(model, twin, twin_module, data, args.steps, args.seed,
                       feed=args.feed, sync=args.sync,
                       report=lambda r: print(format_record(r), flush=True))
    print(f"{args.steps} steps in {time.time() - start:.1f} s")
    floor = None
    if args.noise_floor:
        print("noise floor: the twin against a twin moved by one ulp, same "
              "start, batches and noise", flush=True)
        floor = noise_floor(twin_module, start_weights, data, args.steps,
                            args.seed, epoch=records[-1]["plan_epoch"],
                            gamma=args.gamma,
                            adam_epsilon=args.twin_adam_epsilon,
                            report=lambda r: print(format_record(r), flush=True))
    paths = None
    if args.metric_path_steps:
        scored = twin_module.TwinFactorVAE(latent_dim=10, gamma=args.gamma,
                                           discriminator_layers=6,
                                           seed=args.seed)
        start = time.time()
        twin_module.train(scored, data, args.metric_path_steps, args.seed,
                          epoch_steps=args.metric_path_steps)
        print(f"twin trained alone {args.metric_path_steps} steps in "
              f"{time.time() - start:.0f} s; scoring its weights through both "
              "paths", flush=True)
        paths = metric_paths(scored, model, data, args.seed, args.metric_size)
        for key, value in paths.items():
            print(f"  {key}: {value}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": vars(args), "backend": keras.backend.backend(),
                       "forward": fwd, "records": records,
                       "noise_floor": floor, "metric_paths": paths}, f,
                      indent=1, default=float)
    return records


if __name__ == "__main__":
    main()
