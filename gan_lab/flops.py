"""How much arithmetic one GAN update does: FLOPs counted layer by layer, forward and backward, counting only
the gradients each half of the update really computes.

Counted: the multiply-adds of Dense, Conv2D and Conv2DTranspose layers (2 FLOPs each), which are almost all of
a GAN's arithmetic; not counted: biases, activations, BatchNorm, the optimizer update and the losses
(element-wise work, a few percent at most for these models). For a layer with forward cost F on a batch,
the gradient with respect to its input costs F and the gradient with respect to its weights costs F.

One update (:func:`gan_lab.gan.gan_update`) of batch B with ``d_steps`` = k:

- each discriminator step: G forward (no gradient flows into G: the tape differentiates D's weights only),
  D forward on the real and the fake batch, and for both batches D's weight gradients plus its input
  gradients down to (not including) its first layer;
- the generator step: G forward, D forward on the fakes, D's input gradients through every layer (the
  gradient must reach the image) but no weight gradients for D, then G's weight gradients and its input
  gradients down to (not including) its first layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

from gan_lab.models import preset_pair, with_code_head, with_recon_decoders


def _shape(tensor_or_shape) -> tuple:
    return tuple(getattr(tensor_or_shape, "shape", tensor_or_shape))


def layer_flops(layer) -> int:
    """Forward FLOPs of one layer for ONE example (2 per multiply-add; 0 for element-wise layers)."""
    inner = layer.layer if isinstance(layer, layers.SpectralNormalization) else layer  # shapes: the wrapper's
    if isinstance(inner, layers.Dense):
        return 2 * int(inner.kernel.shape[0]) * int(inner.kernel.shape[1]) * _spatial(layer.output)
    if isinstance(inner, layers.Conv2DTranspose):  # every input pixel scatters a k×k×C_out patch
        kh, kw, c_out, c_in = (int(d) for d in inner.kernel.shape)
        _, h, w, _ = _shape(layer.input)
        return 2 * int(h) * int(w) * c_in * kh * kw * c_out
    if isinstance(inner, layers.Conv2D):
        kh, kw, c_in, c_out = (int(d) for d in inner.kernel.shape)
        _, h, w, _ = _shape(layer.output)
        return 2 * int(h) * int(w) * c_out * kh * kw * c_in
    return 0


def _spatial(tensor) -> int:
    """Positions a Dense layer is applied at (1 for (N, features); H·W for (N, H, W, features))."""
    dims = _shape(tensor)[1:-1]
    out = 1
    for d in dims:
        out *= int(d)
    return out


@dataclass(frozen=True)
class ModelCost:
    """Per-example FLOPs of a model: ``forward``, and ``input_grads_after_first`` (the input gradients of every
    counted layer but the first, which a backward pass that stops at the model's input skips)."""

    forward: int
    first: int

    @property
    def input_grads_after_first(self) -> int:
        return self.forward - self.first


def counted_layers(model: keras.Model) -> list:
    """The layers whose arithmetic is counted (Dense, Conv2D, Conv2DTranspose), in order, nested models
    looked through."""
    out = []
    for layer in model.layers:
        out += counted_layers(layer) if isinstance(layer, keras.Model) else [layer] if layer_flops(layer) else []
    return out


def _layer_costs(model: keras.Model) -> list[int]:
    """Forward FLOPs per example of each counted layer, in order."""
    return [layer_flops(layer) for layer in counted_layers(model)]


def forward_flops(model: keras.Model) -> int:
    """FLOPs of one forward pass per image."""
    return sum(_layer_costs(model))


def model_cost(model: keras.Model) -> ModelCost:
    costs = _layer_costs(model)
    return ModelCost(forward=sum(costs), first=costs[0] if costs else 0)


def update_flops(generator, discriminator, batch_size: int, d_steps: int = 1, decoders: int = 0) -> dict:
    """FLOPs of one GAN update, split as ``{"d_step": ..., "g_step": ..., "total": ...}`` (see the module
    docstring for what is counted). ``decoders``: the forward FLOPs per real image of FastGAN's decoders
    (:func:`decoder_flops`), run forward and backward (weight and input gradients) in every discriminator step."""
    g, d = model_cost(generator), model_cost(discriminator)
    per_d_step = (g.forward                                   # fakes
                  + 2 * d.forward                             # D on real and fake
                  + 2 * (d.forward + d.input_grads_after_first)  # D weight + input grads, both batches
                  + 3 * decoders)                             # decoders on the real batch
    g_step = (g.forward + d.forward                           # fakes through D
              + d.forward                                     # D input grads through every layer
              + g.forward + g.input_grads_after_first)        # G weight + input grads
    d_total, g_total = d_steps * per_d_step * batch_size, g_step * batch_size
    return {"d_step": d_total, "g_step": g_total, "total": d_total + g_total}


def preset_models(preset):
    """A preset's ``(generator, discriminator)`` as they train: with ``info_codes`` the discriminator is the
    model with InfoGAN's code head (its extra Dense layer is counted)."""
    generator, discriminator = preset_pair(preset)
    if preset.info_codes:
        return generator, with_code_head(discriminator, preset.info_codes)
    return generator, discriminator


def decoder_flops(preset, discriminator) -> int:
    """Forward FLOPs per real image of FastGAN's decoders (:func:`gan_lab.models.with_recon_decoders`) when the
    preset has ``recon_weight``, else 0."""
    if not preset.recon_weight:
        return 0
    return forward_flops(with_recon_decoders(discriminator)) - forward_flops(discriminator)


def preset_update_flops(preset) -> dict:
    """:func:`update_flops` of a preset's architecture at its batch size and ``d_steps``. A gradient penalty
    (``gp_weight``, WGAN-GP; ``r1_weight``, R1) adds a double backward pass through D that is not counted: a lower
    bound then."""
    generator, discriminator = preset_models(preset)
    return update_flops(generator, discriminator, preset.batch_size, preset.d_steps,
                        decoder_flops(preset, discriminator))


def preset_flops(preset) -> dict:
    """FLOPs per image of a preset's models, the figures the presets table states:

    - ``generator``: one generated image (the generator's forward pass);
    - ``discriminator``: one image judged (the discriminator's forward pass);
    - ``train_per_image``: one training image's share of an update with the usual rule of thumb "a backward
      pass costs twice a forward one": per discriminator step G + 3·D on the fake and 3·D on the real image,
      and for the generator step 3·G + 3·D, so ``d_steps``·(G + 6·D + 3·R) + 3·G + 3·D, with R FastGAN's decoders
      on the real image (``recon_weight``; 0 without). (:func:`update_flops` counts the gradients exactly instead;
      it is what the throughput benchmark uses.)"""
    generator, discriminator = preset_models(preset)
    g, d, r = forward_flops(generator), forward_flops(discriminator), decoder_flops(preset, discriminator)
    return {"generator": g, "discriminator": d,
            "train_per_image": preset.d_steps * (g + 6 * d + 3 * r) + 3 * g + 3 * d}
