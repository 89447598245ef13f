"""Hyperparameters: one dataclass, and the named recipes that reproduce known setups.

Every hyperparameter lives in :class:`Preset` — the one obvious place to change it. Override fields in code
(``get_preset("cs231n_dcgan", epochs=2, d_lr=2e-4)``, or ``dataclasses.replace``) or on the command line
(``python -m gan_lab train --preset cs231n_dcgan --epochs 2 --d-lr 2e-4``).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Preset:
    """All hyperparameters of one GAN recipe."""

    name: str = "custom"
    description: str = ""
    dataset: str = "mnist"            # "mnist" or "fashion_mnist"
    architecture: str = "dcgan"       # a key of gan_lab.models.ARCHITECTURES
    loss: str = "bce"                 # a key of gan_lab.losses.LOSSES: bce, minimax, lsgan, hinge, wgan
    noise_dim: int = 96
    width: int = 64                   # channel width of the architectures that take one (fast, cgan)
    batch_size: int = 128
    epochs: int = 5
    g_lr: float = 1e-3
    d_lr: float = 1e-3
    g_beta1: float = 0.5
    g_beta2: float = 0.999
    d_beta1: float = 0.5
    d_beta2: float = 0.999
    d_steps: int = 1                  # discriminator updates per generator update
    label_smoothing: float = 0.0      # one-sided: real targets become 1 - label_smoothing
    flip_prob: float = 0.0            # probability of flipping each discriminator target
    output: str = "tanh"              # generator output / data scaling: "tanh" → [-1, 1], "sigmoid" → [0, 1]
    ema_decay: float = 0.0            # > 0: sample from an exponential moving average of G's weights
    gp_weight: float = 0.0            # WGAN-GP gradient penalty λ (10 in the paper); 0 = off
    spectral_norm: bool = False       # wrap the discriminator's Dense/Conv layers in spectral normalization
    precision: str = "float32"        # "mixed_bfloat16" (bf16 compute, float32 weights), or "auto": bf16 where
                                      # the CPU computes bf16 natively (AVX-512 BF16 / AMX), else float32
    seed: int = 0
    sample_every: int = 1             # write a grid of fixed-noise samples every N ...
    sample_unit: str = "epoch"        # ... "epoch"s or "step"s
    checkpoint_every: int = 500       # save a checkpoint every N steps (and every checkpoint_seconds)
    checkpoint_seconds: float = 120.0
    keep_checkpoints: int = 3
    reference: str = field(default="", compare=False)

    def validate(self) -> "Preset":
        """Raise ValueError naming the field, the value, what was expected and how to fix it."""
        from gan_lab.data import normalize_name
        from gan_lab.losses import LOSSES
        from gan_lab.models import ARCHITECTURES

        def bad(name, expected):
            flag = "--" + name.replace("_", "-")
            return ValueError(f"{name} = {getattr(self, name)!r} is invalid: expected {expected} (set it with {flag})")

        normalize_name(self.dataset)
        if self.architecture not in ARCHITECTURES:
            raise bad("architecture", "one of " + ", ".join(ARCHITECTURES))
        if self.loss not in LOSSES:
            raise bad("loss", "one of " + ", ".join(LOSSES))
        for name in ("noise_dim", "width", "batch_size", "d_steps", "sample_every", "keep_checkpoints"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0:
                raise bad(name, "a positive integer")
        for name in ("epochs", "checkpoint_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise bad(name, "an integer >= 0")
        for name in ("g_lr", "d_lr", "checkpoint_seconds"):
            if not getattr(self, name) > 0:
                raise bad(name, "a number > 0")
        for name in ("g_beta1", "g_beta2", "d_beta1", "d_beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise bad(name, "a number in [0, 1)")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise bad("label_smoothing", "a number in [0, 1)")
        if not 0.0 <= self.flip_prob <= 0.5:
            raise bad("flip_prob", "a number in [0, 0.5]")
        if not 0.0 <= self.ema_decay < 1.0:
            raise bad("ema_decay", "a number in [0, 1) (0 turns the moving average off)")
        if self.gp_weight < 0:
            raise bad("gp_weight", "a number >= 0")
        if self.precision not in PRECISIONS:
            raise bad("precision", "'float32', 'mixed_bfloat16' or 'auto'")
        if self.output not in ("tanh", "sigmoid"):
            raise bad("output", "'tanh' or 'sigmoid'")
        if self.sample_unit not in ("epoch", "step"):
            raise bad("sample_unit", "'epoch' or 'step'")
        return self

    def replace(self, **overrides) -> "Preset":
        """A copy with some fields changed; unknown field names raise ValueError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown preset field(s) {', '.join(unknown)}: expected some of {', '.join(sorted(known))}")
        if "dataset" in overrides:
            from gan_lab.data import normalize_name
            overrides["dataset"] = normalize_name(overrides["dataset"])
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> "Preset":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


PRESETS: dict[str, Preset] = {}
PRECISIONS = ("float32", "mixed_bfloat16", "auto")


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """True when the CPU advertises bf16 arithmetic (``avx512_bf16`` or ``amx_bf16`` in /proc/cpuinfo).

    Without it TensorFlow emulates bf16 and mixed precision is slower than float32 (most laptops, many
    cloud CPUs); with it the `fast` step runs about 1.4x faster (benchmarks/README.md)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as f:
                cpuinfo = f.read()
        except OSError:  # not Linux: no way to tell cheaply, stay with float32
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def resolve_precision(precision: str) -> str:
    """The Keras dtype policy for a preset's ``precision``: ``"auto"`` becomes ``"mixed_bfloat16"`` on CPUs
    with native bf16 and ``"float32"`` elsewhere; the other values are returned unchanged."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision = {precision!r} is invalid: expected one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "mixed_bfloat16" if cpu_has_native_bf16() else "float32"
    return precision


def register(preset: Preset) -> Preset:
    """Add a preset to :data:`PRESETS` (usable with ``--preset NAME``)."""
    PRESETS[preset.name] = preset
    return preset


register(Preset(
    name="cs231n_dense", description="CS231n vanilla GAN: dense G and D, BCE, Adam 1e-3 β1 0.5",
    architecture="dense", loss="bce", noise_dim=96, batch_size=128, epochs=10, g_lr=1e-3, d_lr=1e-3,
    sample_every=250, sample_unit="step", reference="Stanford CS231n assignment 3, GANs notebook"))
register(Preset(
    name="cs231n_lsgan", description="CS231n least-squares GAN: dense G and D, LSGAN loss",
    architecture="dense", loss="lsgan", noise_dim=96, batch_size=128, epochs=10, g_lr=1e-3, d_lr=1e-3,
    sample_every=250, sample_unit="step", reference="Mao et al. 2017; CS231n assignment 3"))
register(Preset(
    name="cs231n_dcgan", description="CS231n DCGAN: conv D, FC+ConvT G with BN, BCE, Adam 1e-3 β1 0.5",
    architecture="dcgan", loss="bce", noise_dim=96, batch_size=128, epochs=5, g_lr=1e-3, d_lr=1e-3,
    sample_every=250, sample_unit="step", reference="Radford et al. 2016; CS231n assignment 3"))
register(Preset(
    name="tf_tutorial_dcgan", description="TensorFlow DCGAN tutorial: 5×5 ConvT G, dropout D, Adam 1e-4",
    architecture="tf_tutorial", loss="bce", noise_dim=100, batch_size=256, epochs=50, g_lr=1e-4, d_lr=1e-4,
    g_beta1=0.9, d_beta1=0.9, sample_every=1, sample_unit="epoch",
    reference="tensorflow.org/tutorials/generative/dcgan"))
register(Preset(
    name="fashion_mlp", description="Fashion-MNIST MLP GAN: dense expansion to 784, lr 2e-4",
    dataset="fashion_mnist", architecture="fashion_mlp", loss="bce", noise_dim=100, batch_size=128, epochs=10,
    g_lr=2e-4, d_lr=2e-4, sample_every=5, sample_unit="epoch", reference="Fashion-MNIST MLP GAN seed"))
register(Preset(
    name="fashion_dcgan", description="Fashion-MNIST upsampling DCGAN, sigmoid output on [0, 1] data, G 1e-4 D 1e-5",
    dataset="fashion_mnist", architecture="fashion_dcgan", loss="bce", noise_dim=128, batch_size=128, epochs=20,
    g_lr=1e-4, d_lr=1e-5, output="sigmoid", sample_every=5, sample_unit="epoch",
    reference="Fashion-MNIST upsampling DCGAN seed"))
register(Preset(
    name="fast", description="CPU-fast class-conditional DCGAN with EMA sampling: varied, readable digits in 3 min",
    architecture="cgan", loss="bce", noise_dim=64, batch_size=64, epochs=100, g_lr=1e-3, d_lr=1e-3,
    ema_decay=0.999, precision="auto", sample_every=500, sample_unit="step",
    reference="gan_lab (benchmarks/README.md)"))
register(Preset(
    name="fast_unconditional", description="the fast recipe without labels (small DCGAN, EMA sampling)",
    architecture="fast", loss="bce", noise_dim=64, batch_size=64, epochs=100, g_lr=1e-3, d_lr=1e-3,
    ema_decay=0.995, precision="auto", sample_every=500, sample_unit="step",
    reference="gan_lab (benchmarks/README.md)"))
# The conditional GAN variant is the fast recipe (which is class-conditional): one set of settings, two names.
register(PRESETS["fast"].replace(
    name="cgan", description="Conditional GAN: label-conditioned fast DCGAN, draw any digit on demand",
    reference="Mirza & Osindero 2014"))
register(Preset(
    name="wgan_gp", description="WGAN-GP on Fashion-MNIST: critic loss + gradient penalty λ=10, 5 critic steps",
    dataset="fashion_mnist", architecture="fast", loss="wgan", gp_weight=10.0, d_steps=5, noise_dim=128,
    batch_size=64, epochs=100, g_lr=2e-4, d_lr=2e-4, g_beta1=0.5, g_beta2=0.9, d_beta1=0.5, d_beta2=0.9,
    sample_every=200, sample_unit="step", reference="Gulrajani et al. 2017; keras.io WGAN-GP example"))
register(Preset(
    name="hinge", description="Hinge loss with a spectrally normalized discriminator (SNGAN recipe)",
    architecture="fast", loss="hinge", spectral_norm=True, noise_dim=64, batch_size=64, epochs=100,
    g_lr=2e-4, d_lr=4e-4, g_beta1=0.0, g_beta2=0.9, d_beta1=0.0, d_beta2=0.9, ema_decay=0.999,
    sample_every=500, sample_unit="step", reference="Miyato et al. 2018; Lim & Ye 2017"))


def parse_overrides(items) -> dict:
    """``["g_lr=2e-4", "spectral_norm=true", ...]`` → ``{"g_lr": 0.0002, "spectral_norm": True, ...}``, each value
    converted to its field's type (for scripts and command lines); unknown fields and bad values raise
    ValueError naming the item."""
    kinds = {f.name: type(f.default) for f in fields(Preset)}
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or key not in kinds:
            raise ValueError(f"{item!r} is not FIELD=VALUE with a preset field: expected one of "
                             f"{', '.join(sorted(kinds))}")
        kind = kinds[key]
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                out[key] = text.lower() in ("true", "1")
            else:
                out[key] = kind(text)
        except ValueError:
            raise ValueError(f"{item!r}: {key} takes a {kind.__name__}, got {text!r}") from None
    return out


def get_preset(name: str, **overrides) -> Preset:
    """The named preset, with optional field overrides; unknown names raise a ValueError listing the choices."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}: expected one of {', '.join(PRESETS)} "
                         "(run `python -m gan_lab presets` to list them)")
    preset = PRESETS[name]
    return preset.replace(**overrides) if overrides else preset
