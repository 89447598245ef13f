"""Self-attention in `fast64` (SAGAN, Zhang et al. 2019; a probe, not a preset field).

Convolutions see a few pixels at a time; a heart's outline or a face's two eyes are wholes. SAGAN's
self-attention layer lets every position of a feature map read every other: with f, g, h 1×1 convolutions
(C/8, C/8 and C/2 channels, g's and h's maps max-pooled 2×2 as in BigGAN, Brock et al. 2019), attention
β = softmax(f(x) g(x)ᵀ) over positions, and the output y = x + γ · o(β h(x)), o a 1×1 convolution back to C
channels and γ a learned scale that starts at 0, so the layer starts as the identity. Here it follows the
generator's and the discriminator's 32×32 maps (`--at 32`; 16 for the 16×16 maps), in `fast64` as the CLI trains
it otherwise (`gan_lab.gan.build_gan`, `gan_lab.data.training_batches`); `--at 0` is `fast64` itself, through the
same code. The generator's layer goes where FastGAN's skip-layer excitation would (`gan_lab.models._excite`, here
replaced), the discriminator's after its LeakyReLU of that size (its inner convolutions are not spectrally
normalized). Prints the seconds of training and the offline scores of the EMA generator (as
`benchmarks/grow_probe.py`: 690 samples of `uniform_noise(690, 100, 123)`, `two_sample=True`) and writes its 100
first samples as a grid.

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/attention_probe.py --seed 1 --steps 2000 --at 32 \\
        --out runs/attn-s1
"""
from __future__ import annotations

import argparse
import contextlib
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import gan_lab.models as models  # noqa: E402
from colour_common import add_probe_arguments, probe_fast64, report_probe  # noqa: E402  (benchmarks/ on sys.path)
from gan_lab.data import training_batches  # noqa: E402

ARCHITECTURE = "dcgan_attention"
AT = {"size": 32}  # the map size the attention layers follow (set by --at)


class SelfAttention(keras.layers.Layer):
    """SAGAN's self-attention block on a (N, S, S, C) map, keys and values max-pooled 2×2 (see the docstring)."""

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        small = max(channels // 8, 1)
        self.f = keras.layers.Conv2D(small, 1, use_bias=False)
        self.g = keras.layers.Conv2D(small, 1, use_bias=False)
        self.h = keras.layers.Conv2D(channels // 2, 1, use_bias=False)
        self.o = keras.layers.Conv2D(channels, 1, use_bias=False)
        self.pool = keras.layers.MaxPooling2D(2)

    def build(self, shape):
        n, s = shape[0], shape[1]
        self.f.build(shape)
        self.g.build(shape)
        self.h.build(shape)
        self.o.build((n, s, s, self.channels // 2))
        self.gamma = self.add_weight(name="gamma", shape=(), initializer="zeros")

    def call(self, x):
        ops, s = keras.ops, x.shape[1]
        q = ops.reshape(self.f(x), (-1, s * s, self.f.filters))
        k = ops.reshape(self.pool(self.g(x)), (-1, s * s // 4, self.g.filters))
        v = ops.reshape(self.pool(self.h(x)), (-1, s * s // 4, self.h.filters))
        beta = ops.softmax(ops.cast(ops.matmul(q, ops.transpose(k, (0, 2, 1))), "float32"), axis=-1)
        read = ops.reshape(ops.matmul(ops.cast(beta, v.dtype), v), (-1, s, s, self.h.filters))
        return x + ops.cast(self.gamma, x.dtype) * self.o(read)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


def _attend_instead_of_excite(small, big):
    return SelfAttention(big.shape[-1], name=f"attention_{big.shape[1]}")(big) if big.shape[1] == AT["size"] else big


class _LayersWithAttention:
    """``keras.layers`` as ``gan_lab.models`` uses it, but the discriminator's LeakyReLU named ``features_S``
    (S = ``AT["size"]``) is followed by a :class:`SelfAttention` block."""

    def __getattr__(self, name):
        return getattr(keras.layers, name)

    @staticmethod
    def LeakyReLU(**kwargs):  # noqa: N802  (stands in for the class)
        act = keras.layers.LeakyReLU(**kwargs)
        if kwargs.get("name") != f"features_{AT['size']}":
            return act
        return lambda x: SelfAttention(x.shape[-1], name=f"d_attention_{AT['size']}")(act(x))


@contextlib.contextmanager
def _patched(name, value):
    saved = getattr(models, name)
    setattr(models, name, value)
    try:
        yield
    finally:
        setattr(models, name, saved)


def attention_generator(noise_dim=100, image_shape=(64, 64, 3), width=64, output="tanh", skip=False,
                        name="attention_generator"):
    with _patched("_excite", _attend_instead_of_excite):
        return models.dcgan_generator(noise_dim, image_shape, width, output, skip=skip, sle=True, name=name)


def attention_discriminator(image_shape=(64, 64, 3), width=64, minibatch_std=False, multiscale=False,
                            name="attention_discriminator"):
    with _patched("layers", _LayersWithAttention()):
        return models.dcgan_discriminator(image_shape, width, minibatch_std, multiscale, name=name)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, required=True, help="updates")
    ap.add_argument("--at", type=int, default=32, choices=(0, 16, 32),
                    help="the map size the attention layers follow (0: none, fast64 itself)")
    add_probe_arguments(ap, "folder for grid.png")
    args = ap.parse_args(argv)
    overrides = {}
    if args.at:
        AT["size"] = args.at
        models.register_architecture(ARCHITECTURE, attention_generator, attention_discriminator)
        overrides["architecture"] = ARCHITECTURE
    dataset, preset, gan, images = probe_fast64(args, **overrides)
    start = time.perf_counter()
    gan.fit(training_batches(images, preset.batch_size, "tanh", args.seed), epochs=1, steps_per_epoch=args.steps,
            verbose=0)
    seconds = time.perf_counter() - start
    layers = sorted(layer.name for model in (gan.generator, gan.discriminator) for layer in model.layers
                    if isinstance(layer, SelfAttention) or "attention" in layer.name)
    report_probe(gan, preset, dataset, args, at=args.at, steps=args.steps, train_s=round(seconds, 1),
                 attention_layers=layers)


if __name__ == "__main__":
    main()
