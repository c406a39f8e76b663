"""An independent PyTorch FactorVAE: the twin that our Keras model is checked against.

Plain PyTorch (no Keras, no `keras_factorvae` model or training code): the
FactorVAE paper's conv networks (Kim & Mnih 2018, appendix), its losses and
its two Adam optimisers, trained on the same batches as our model. Only the
data come from `keras_factorvae.datasets` (the procedural dSprites and its
`BatchPlan`), so that both implementations see the same images in the same
order; `benchmarks/twin_compare.py` trains both and scores them with the same
metrics.

Architecture (what `keras_factorvae.networks` calls `"conv_paper"`; the same
layer shapes, so the same parameter counts, but written independently):

- encoder: Conv 4x4 stride 2 (padding 1, i.e. "same" for even sizes), ReLU,
  at 32, 32, 64, 64 channels (64 -> 4 pixels), flatten, Dense 128 ReLU,
  Dense 2 * latent (means, then log-variances clipped to [-20, 20]);
- decoder: Dense 128 ReLU, Dense 4*4*64 ReLU, ConvTranspose 4x4 stride 2
  (padding 1) at 64, 32, 32 channels with ReLU, then to the image channels
  (Bernoulli logits);
- discriminator: `hidden_layers` (6, disentanglement_lib's reading of the
  paper) Dense layers of 1000 units with LeakyReLU(0.2), then 2 logits
  (class 0: codes from q(z), class 1: permuted codes).

Initialisation: Glorot-uniform weights and zero biases everywhere, Keras'
defaults, so that a difference between the two implementations is not one of
initialisation (`init="torch"` keeps PyTorch's default initialisers).

One training step (paper Algorithm 2):

1. `mu, logvar = enc(x)`, `z = mu + exp(logvar / 2) * eps`;
   `vae_loss = recon + KL + gamma * mean(D(z)[:, 0] - D(z)[:, 1])`
   (recon: sigmoid cross-entropy summed over pixels, KL summed over latent
   dims, both averaged over the batch). Its gradient is taken with
   `torch.autograd.grad` with respect to the encoder and decoder only, so no
   gradient reaches the discriminator's weights or `.grad` buffers, and the
   VAE's Adam (1e-4, 0.9, 0.999) steps.
2. `z'` from the second batch `x2` through the *updated* encoder, under
   `no_grad`; `d_loss = 0.5 * (CE(D(z.detach()), 0) + CE(D(permute_dims(z')), 1))`
   on fresh forward passes (no graph from step 1 is reused, so the in-place
   parameter update of step 1 cannot corrupt it), gradient with respect to the
   discriminator only, discriminator Adam (1e-4, 0.5, 0.9).

Adam's epsilon: torch adds it to the bias-corrected `sqrt(v_hat)` (Kingma &
Ba's Algorithm 1), Keras/TensorFlow (and so our model and disentanglement_lib)
to the uncorrected `sqrt(v)` (the paper's "efficient" form, whose epsilon is
`eps_hat`): in torch's terms Keras' epsilon is `eps / sqrt(1 - beta_2^t)`,
3.2e-7 instead of 1e-8 at the VAE's first step, and the two agree only once
`beta_2^t` has decayed (a few thousand VAE steps). Weights whose gradients
are ~1e-7 therefore move by up to ~0.7 lr less per step in Keras early on.
`adam_epsilon="keras"` sets torch's epsilon to that value before every step,
which gives Keras' update exactly (benchmarks/twin_lockstep.py uses it to
compare the rest of the step); the default `"torch"` keeps torch's Adam.

Speed (CPU, one thread): the convolutions run in PyTorch's `channels_last`
memory layout (an NHWC batch permuted to NCHW already is that layout), both
Adams are `fused=True` (the same Adam update, epsilon 1e-8 as ours), and the
discriminator update classifies both batches in one call; together about 2x
the plain NCHW version (~4 instead of ~2 steps/s).

`permute_dims` draws an independent permutation of the batch for every latent
column from the twin's own `torch.Generator` (the bug of permuting within each
sample is what tests/test_twin.py checks against).

    python benchmarks/twin_torch.py --steps 200 --seed 0 --threads 1

trains the twin alone and prints its speed and losses.
"""

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LOGVAR_MIN, LOGVAR_MAX = -20.0, 20.0


# --------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------

class Encoder(nn.Module):
    """Images (N, C, 64, 64) -> (mean, clipped logvar), each (N, latent)."""

    def __init__(self, latent_dim=10, channels=1, side=64):
        super().__init__()
        self.latent_dim = latent_dim
        chans = [channels, 32, 32, 64, 64]
        self.convs = nn.ModuleList(
            nn.Conv2d(chans[i], chans[i + 1], 4, stride=2, padding=1)
            for i in range(4))
        self.flat = 64 * (side // 16) ** 2
        self.fc = nn.Linear(self.flat, 128)
        self.stats = nn.Linear(128, 2 * latent_dim)

    def forward(self, x):
        h = x
        for conv in self.convs:
            h = F.relu(conv(h))
        h = F.relu(self.fc(h.flatten(1)))
        stats = self.stats(h)
        mean = stats[:, : self.latent_dim]
        logvar = stats[:, self.latent_dim :].clamp(LOGVAR_MIN, LOGVAR_MAX)
        return mean, logvar


class Decoder(nn.Module):
    """Codes (N, latent) -> image logits (N, C, 64, 64)."""

    def __init__(self, latent_dim=10, channels=1, side=64):
        super().__init__()
        self.base = side // 16
        self.fc1 = nn.Linear(latent_dim, 128)
        self.fc2 = nn.Linear(128, 64 * self.base ** 2)
        chans = [64, 64, 32, 32, channels]
        self.deconvs = nn.ModuleList(
            nn.ConvTranspose2d(chans[i], chans[i + 1], 4, stride=2, padding=1)
            for i in range(4))

    def forward(self, z):
        h = F.relu(self.fc2(F.relu(self.fc1(z))))
        h = h.view(-1, 64, self.base, self.base)
        for i, deconv in enumerate(self.deconvs):
            h = deconv(h)
            if i < len(self.deconvs) - 1:
                h = F.relu(h)
        return h


class Discriminator(nn.Module):
    """Codes (N, latent) -> 2 logits; `hidden_layers` of `units` + output."""

    def __init__(self, latent_dim=10, units=1000, hidden_layers=6):
        super().__init__()
        layers, width = [], latent_dim
        for _ in range(hidden_layers):
            layers += [nn.Linear(width, units), nn.LeakyReLU(0.2)]
            width = units
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z)


def glorot_init_(module):
    """Glorot-uniform weights, zero biases (Keras' defaults)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------
# Losses and the permutation
# --------------------------------------------------------------------------

def permute_dims(z, generator=None):
    """Column j of the result is z[perm_j, j], one permutation per column.

    Returns a new tensor; `z` is not modified.
    """
    batch, dims = z.shape
    columns = [z[torch.randperm(batch, generator=generator, device=z.device), j]
               for j in range(dims)]
    return torch.stack(columns, dim=1)


def reconstruction_loss(x, logits):
    """Sigmoid cross-entropy summed over pixels, averaged over the batch."""
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_pixel.flatten(1).sum(1).mean()


def kl_loss(mean, logvar):
    """KL(N(mean, exp(logvar)) || N(0, I)) summed over dims, batch mean."""
    return (0.5 * (mean.pow(2) + logvar.exp() - logvar - 1.0)).sum(1).mean()


def density_ratio_tc(logits):
    return (logits[:, 0] - logits[:, 1]).mean()


def discriminator_loss(logits_real, logits_perm):
    """0.5 * (CE(D(z), class 0) + CE(D(z_perm), class 1))."""
    zeros = torch.zeros(len(logits_real), dtype=torch.long)
    ones = torch.ones(len(logits_perm), dtype=torch.long)
    return 0.5 * (F.cross_entropy(logits_real, zeros)
                  + F.cross_entropy(logits_perm, ones))


# --------------------------------------------------------------------------
# The model and its training step
# --------------------------------------------------------------------------

class TwinFactorVAE:
    """The twin: networks, both optimisers and its own noise generator.

    Args:
        latent_dim: latent dimensions.
        gamma: weight of the discriminator's TC estimate in the VAE loss.
        discriminator_layers: hidden layers of the discriminator.
        channels, side: image shape (NCHW inside, NHWC numpy in `train_step`).
        seed: seeds the initial weights and the noise (sampling, permutations).
        init: `"glorot"` (Keras' defaults) or `"torch"` (PyTorch's).
        adam_epsilon: `"torch"` (epsilon added to the bias-corrected
            `sqrt(v_hat)`) or `"keras"` (added to `sqrt(v)`, as Keras and
            TensorFlow do; see the module docstring).
    """

    def __init__(self, latent_dim=10, gamma=35.0, discriminator_layers=6,
                 channels=1, side=64, seed=0, init="glorot",
                 adam_epsilon="torch"):
        if adam_epsilon not in ("torch", "keras"):
            raise ValueError(
                f"adam_epsilon must be 'torch' or 'keras', not {adam_epsilon!r}")
        self.adam_epsilon = adam_epsilon
        torch.manual_seed(seed)
        self.latent_dim, self.gamma = latent_dim, float(gamma)
        self.encoder = Encoder(latent_dim, channels, side)
        self.decoder = Decoder(latent_dim, channels, side)
        self.discriminator = Discriminator(latent_dim, 1000, discriminator_layers)
        if init == "glorot":
            for net in (self.encoder, self.decoder, self.discriminator):
                glorot_init_(net)
        elif init != "torch":
            raise ValueError(f"init must be 'glorot' or 'torch', not {init!r}")
        for net in (self.encoder, self.decoder):
            net.to(memory_format=torch.channels_last)
        self.vae_params = (list(self.encoder.parameters())
                           + list(self.decoder.parameters()))
        self.d_params = list(self.discriminator.parameters())
        self.vae_optimizer = torch.optim.Adam(
            self.vae_params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
            fused=True)
        self.d_optimizer = torch.optim.Adam(
            self.d_params, lr=1e-4, betas=(0.5, 0.9), eps=1e-8,
            fused=True)
        self.generator = torch.Generator().manual_seed(10_007 * seed + 1)
        self.steps = 0

    # --- helpers ---

    @staticmethod
    def to_torch(x):
        """NHWC numpy images -> NCHW float32 tensor in channels-last memory.

        The permuted view of an NHWC array already is PyTorch's
        `channels_last` layout, in which its CPU convolutions run fastest.
        """
        x = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32))
        return x.permute(0, 3, 1, 2)

    def sample(self, mean, logvar):
        eps = torch.randn(mean.shape, generator=self.generator)
        return mean + torch.exp(0.5 * logvar) * eps

    EPSILON = 1e-8

    def _step(self, optimizer, params, loss):
        grads = torch.autograd.grad(loss, params)
        for p, g in zip(params, grads):
            p.grad = g
        if self.adam_epsilon == "keras":
            # Keras: theta -= lr_t * m / (sqrt(v) + eps) with
            # lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t); torch divides by
            # sqrt(v) / sqrt(1 - b2^t) + eps', equal for this eps'.
            state = optimizer.state.get(params[0], {})
            t = float(state["step"]) + 1 if "step" in state else 1.0
            for group in optimizer.param_groups:
                beta_2 = group["betas"][1]
                group["eps"] = self.EPSILON / math.sqrt(1.0 - beta_2 ** t)
        optimizer.step()
        for p in params:
            p.grad = None

    # --- training ---

    def vae_update(self, x):
        """The VAE update on batch `x` (NCHW tensor); changes enc/dec only.

        Returns:
            `(z, logs)`: the sampled codes (detached) and the loss terms.
        """
        mean, logvar = self.encoder(x)
        z = self.sample(mean, logvar)
        recon = reconstruction_loss(x, self.decoder(z))
        kl = kl_loss(mean, logvar)
        tc = density_ratio_tc(self.discriminator(z))
        vae_loss = recon + kl + self.gamma * tc
        # Gradients of the encoder's and decoder's weights only: autograd
        # walks no path to the discriminator's weights and fills no `.grad`.
        self._step(self.vae_optimizer, self.vae_params, vae_loss)
        logs = {"loss": vae_loss, "reconstruction_loss": recon, "kl_loss": kl,
                "tc_loss": tc}
        return z.detach(), logs

    def discriminator_update(self, x2, z):
        """The discriminator update; changes the discriminator only.

        Args:
            x2: the second batch (NCHW tensor), encoded by the current
                (already updated) encoder without gradients.
            z: codes of the first batch, constants (detached).
        """
        z_real = z.detach()
        with torch.no_grad():
            mean2, logvar2 = self.encoder(x2)
            z_perm = permute_dims(self.sample(mean2, logvar2), self.generator)
        # Fresh forward passes: nothing of the VAE update's graph is reused.
        # One call on both batches: the MLP treats rows independently.
        logits = self.discriminator(torch.cat([z_real, z_perm]))
        logits_real, logits_perm = logits[: len(z_real)], logits[len(z_real) :]
        d_loss = discriminator_loss(logits_real, logits_perm)
        self._step(self.d_optimizer, self.d_params, d_loss)
        with torch.no_grad():
            acc = 0.5 * ((logits_real[:, 0] >= logits_real[:, 1]).float().mean()
                         + (logits_perm[:, 1] > logits_perm[:, 0]).float().mean())
        return {"discriminator_loss": d_loss, "discriminator_accuracy": acc}

    def train_step(self, x, x2):
        """One VAE update on `x`, then one discriminator update with `x2`.

        Args:
            x, x2: two independent batches, NHWC numpy float32 in [0, 1] (or
                NCHW tensors).

        Returns:
            Dict of Python floats: loss, reconstruction_loss, kl_loss,
            tc_loss, discriminator_loss, discriminator_accuracy.
        """
        x = x if torch.is_tensor(x) else self.to_torch(x)
        x2 = x2 if torch.is_tensor(x2) else self.to_torch(x2)
        z, logs = self.vae_update(x)
        logs.update(self.discriminator_update(x2, z))
        self.steps += 1
        return {k: v.detach().item() for k, v in logs.items()}

    # --- evaluation (numpy in, numpy out) ---

    @torch.no_grad()
    def encode_stats(self, x, batch_size=256):
        """(mean, logvar) numpy arrays of NHWC images."""
        means, logvars = [], []
        for s in range(0, len(x), batch_size):
            m, lv = self.encoder(self.to_torch(x[s : s + batch_size]))
            means.append(m.numpy())
            logvars.append(lv.numpy())
        if not means:
            return (np.zeros((0, self.latent_dim), np.float32),) * 2
        return np.concatenate(means), np.concatenate(logvars)

    def encode(self, x, batch_size=256):
        """Posterior means (the representation the metrics score)."""
        return self.encode_stats(x, batch_size)[0]

    @torch.no_grad()
    def decode_logits(self, z, batch_size=256):
        """NHWC numpy logits of codes."""
        out = [self.decoder(torch.as_tensor(np.asarray(z[s : s + batch_size],
                                                       np.float32)))
               .permute(0, 2, 3, 1).numpy()
               for s in range(0, len(z), batch_size)]
        return np.concatenate(out)

    @torch.no_grad()
    def discriminator_logits(self, z):
        return self.discriminator(torch.as_tensor(np.asarray(z, np.float32))).numpy()

    def state_dict(self):
        return {"encoder": self.encoder.state_dict(),
                "decoder": self.decoder.state_dict(),
                "discriminator": self.discriminator.state_dict(),
                "vae_optimizer": self.vae_optimizer.state_dict(),
                "d_optimizer": self.d_optimizer.state_dict(),
                "generator": self.generator.get_state(), "steps": self.steps}


def train(model, data, steps, seed=0, batch_size=64, epoch_steps=1000,
          log_every=0):
    """Trains `model` for `steps` on the batches of `data`'s `BatchPlan`.

    Batch `i` of epoch `e` of `data.as_py_dataset(batch_size, paired=True,
    seed=seed, steps_per_epoch=epoch_steps)`: the batches our model sees when
    it is fit one epoch of `epoch_steps` at a time (twin_compare.py).

    Returns:
        `(seconds, last logs)`.
    """
    epoch_steps = min(epoch_steps, steps)
    if steps % epoch_steps:
        raise ValueError(f"steps ({steps}) must be a multiple of {epoch_steps}")
    ds = data.as_py_dataset(batch_size=batch_size, paired=True, seed=seed,
                            steps_per_epoch=epoch_steps)
    logs, start = {}, time.time()
    for step in range(steps):
        ds.epoch, index = divmod(step, epoch_steps)
        x, x2 = ds[index]
        logs = model.train_step(x, x2)
        if not all(math.isfinite(v) for v in logs.values()):
            raise FloatingPointError(f"non-finite loss at step {step}: {logs}")
        if log_every and (step + 1) % log_every == 0:
            rate = (step + 1) / (time.time() - start)
            print(f"[twin] step {step + 1}: loss {logs['loss']:.2f}, "
                  f"tc {logs['tc_loss']:.3f}, {rate:.2f} steps/s", flush=True)
    return time.time() - start, logs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gamma", type=float, default=35.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--log-every", type=int, default=50)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from keras_factorvae import datasets

    data = datasets.load("dsprites")
    model = TwinFactorVAE(gamma=args.gamma, seed=args.seed)
    seconds, logs = train(model, data, args.steps, args.seed,
                          log_every=args.log_every)
    print(json.dumps({"steps": args.steps, "seconds": round(seconds, 2),
                      "steps_per_second": round(args.steps / seconds, 3),
                      **logs}))


if __name__ == "__main__":
    main()
