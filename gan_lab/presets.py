"""Hyperparameters: one dataclass, and the named recipes that reproduce known setups.

Every hyperparameter lives in :class:`Preset` — the one obvious place to change it. Override fields in code
(``get_preset("cs231n_dcgan", epochs=2, d_lr=2e-4)``, or ``dataclasses.replace``) or on the command line
(``gan-lab train --preset cs231n_dcgan --epochs 2 --d-lr 2e-4``), or from scripts (``parse_overrides``).
One parser, driven by the field types, serves all three: :func:`parse_field`.

This module imports neither TensorFlow nor Keras (``gan-lab --help`` and ``gan-lab presets`` answer at once);
the checks that need the model and loss registries import them when called.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Preset:
    """All hyperparameters of one GAN recipe."""

    name: str = "custom"
    description: str = ""
    dataset: str = "mnist"            # mnist, fashion_mnist, cifar10, celeba, folder:PATH, or folder (--data-dir)
    image_size: int = 28              # images are image_size × image_size × channels (the data is fitted to it)
    channels: int = 1                 # 1 grayscale, 3 RGB
    architecture: str = "dcgan"       # a key of gan_lab.models.ARCHITECTURES (small_conditional: takes labels)
    loss: str = "bce"                 # a key of gan_lab.losses.LOSSES: bce, minimax, lsgan, hinge, wgan
    noise_dim: int = 96
    width: int = 64                   # channel width of the architectures that take one (small, small_conditional)
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
    ema_bn_samples: int = 0           # > 0: before the EMA generator draws, its BatchNorm statistics are
                                      # recomputed from this many noise vectors (as SWA does; no EMA: no effect)
    gp_weight: float = 0.0            # WGAN-GP gradient penalty λ (10 in the paper); 0 = off
    r1_weight: float = 0.0            # R1 penalty γ on D's gradient at real images (Mescheder et al. 2018); 0 = off
    r1_every: int = 1                 # lazy R1 (Karras et al. 2020): an extra D step on γ·N/2·R1 every N updates
    spectral_norm: bool = False       # wrap the discriminator's Dense/Conv layers in spectral normalization
    minibatch_std: bool = False       # the minibatch standard deviation channel before D's logit (Karras et al.
                                      # 2018; architectures dcgan_any and dcgan_conditional)
    multiscale_d: bool = False        # a second D on the picture at half size, the losses average the two logits
                                      # (Wang et al. 2018's multi-scale discriminator; architecture dcgan_any)
    skip_g: bool = False              # G draws RGB at every resolution, upsampled and summed, the last layer by
                                      # upsampling + 3×3 conv (StyleGAN2's skip generator; architecture dcgan_any)
    sle_g: bool = False               # G's maps from 16×16 up gated per channel by the map a quarter their size
                                      # (FastGAN's skip-layer excitation, Liu et al. 2021; architecture dcgan_any)
    recon_weight: float = 0.0         # FastGAN's self-supervised D (Liu et al. 2021): decoders redraw the real
                                      # images from D's 8×8 and 16×16 features, this weight on their loss in D's
                                      # loss; 0 = off (architecture dcgan_any, pictures of 32, 64, 128, ...)
    mode_seeking: float = 0.0         # MSGAN (Mao et al. 2019): λ of the term that makes two fakes of one class
                                      # differ as their noise does, added to G's loss; 0 = off
    diff_augment: str = ""            # DiffAugment policy applied to real and fake images before D, e.g.
                                      # "color,translation,cutout" (gan_lab.augment); "" = off
    info_codes: int = 0               # InfoGAN (Chen et al. 2016): G reads a categorical code of this many values
                                      # from its noise, a head on D predicts it; 0 = off (unconditional only)
    info_weight: float = 1.0          # λ of InfoGAN's code cross-entropy, added to the D and G losses
    clusters: int = 0                 # self-conditioning (Liu et al. 2020): k-means clusters of the training images
                                      # are the labels of a conditional architecture and G picks one from its
                                      # noise (gan_lab.clusters); 0 = off (a conditional architecture then uses
                                      # the data set's labels)
    class_clusters: int = 0           # conditional presets: each class split into this many k-means clusters; the
                                      # models see (class, cluster) labels, G asked for a class picks one of its
                                      # clusters from the noise; 0 = off
    num_classes: int = 0              # conditional presets: how many classes the data's labels have; 0 = count them
                                      # when the run starts (the run stores the count in preset.json)
    precision: str = "float32"        # "mixed_bfloat16" (bf16 compute, float32 weights), or "auto": bf16 where
                                      # the CPU computes bf16 natively (AVX-512 BF16 / AMX), else float32
    seed: int = 0
    sample_every: int = 1             # write a grid of fixed-noise samples every N ...
    sample_unit: str = "epoch"        # ... "epoch"s or "step"s
    checkpoint_every: int = 500       # save a checkpoint every N steps (and every checkpoint_seconds)
    checkpoint_seconds: float = 120.0
    keep_checkpoints: int = 3
    reference: str = field(default="", compare=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(image_size, image_size, channels)``: the shape of one image the generator draws."""
        return (self.image_size, self.image_size, self.channels)

    @property
    def conditional(self) -> bool:
        """True when the generator takes class labels (the run trains on the data set's (image, label) pairs).
        A self-conditioned preset (``clusters`` > 0) is not: it trains on (image, cluster) pairs it makes
        itself and its generator draws from noise alone."""
        return self.label_architecture and not self.clusters

    @property
    def label_architecture(self) -> bool:
        """True when the architecture's models take labels (class labels, or clusters with ``clusters``)."""
        from gan_lab.models import CONDITIONAL
        return self.architecture in CONDITIONAL

    def validate(self) -> "Preset":
        """Raise ValueError naming the field, the value, what was expected and how to fix it."""
        from gan_lab.augment import parse_policy
        from gan_lab.data import normalize_name
        from gan_lab.losses import LOSSES
        from gan_lab.models import (ARCHITECTURES, CONDITIONAL, IMAGE_SHAPE, OPTIONS, architectures_with,
                                    recon_size, takes_image_shape, takes_option)

        def bad(name, expected):
            return ValueError(f"{name} = {getattr(self, name)!r} is invalid: expected {expected} "
                              f"(set it with {field_flag(name)})")

        for f in fields(self):
            value, kind = getattr(self, f.name), FIELD_TYPES[f.name]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not kind:
                raise bad(f.name, KIND_WORDS[kind])
            if kind is float and not math.isfinite(value):
                raise bad(f.name, "a finite number")
        normalize_name(self.dataset)
        if self.architecture not in ARCHITECTURES:
            raise bad("architecture", "one of " + ", ".join(ARCHITECTURES))
        if self.loss not in LOSSES:
            raise bad("loss", "one of " + ", ".join(LOSSES))
        for option, spec in OPTIONS.items():
            if getattr(self, spec.field) and not takes_option(self.architecture, option):
                raise bad(spec.field, f"false with architecture {self.architecture!r} (the option is built into "
                          f"{architectures_with(option)})")
        for name, most in LIMITS.items():
            if not 0 < getattr(self, name) <= most:
                raise bad(name, f"a positive integer up to {most:,}")
        for name in ("epochs", "checkpoint_every"):
            if getattr(self, name) < 0:
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
        if self.ema_bn_samples < 0:
            raise bad("ema_bn_samples", "0 (off) or a number of noise vectors > 0, e.g. 512")
        for name in ("gp_weight", "r1_weight"):
            if getattr(self, name) < 0:
                raise bad(name, "a number >= 0 (0 turns the penalty off)")
        if self.mode_seeking < 0:
            raise bad("mode_seeking", "a number >= 0 (0 turns the term off; 1 in the MSGAN paper)")
        if self.mode_seeking and self.batch_size < 2:
            raise bad("mode_seeking", f"0 with a batch of {self.batch_size} (the term compares pairs of fakes): "
                      "set batch_size to 2 or more, or mode_seeking to 0")
        if self.info_codes and not 2 <= self.info_codes < self.noise_dim:
            raise bad("info_codes", f"0 (off) or from 2 to noise_dim - 1 = {self.noise_dim - 1} (the code is read "
                      "from the first info_codes noise values)")
        if self.info_codes and self.label_architecture:
            raise bad("info_codes", f"0 with the conditional architecture {self.architecture!r} (it has labels; "
                      "InfoGAN codes are for unconditional GANs)")
        if self.info_codes and self.multiscale_d:
            raise bad("info_codes", "0 with multiscale_d (the code head reads one discriminator's features; turn "
                      "one of them off: --multiscale-d false or --info-codes 0)")
        if self.recon_weight < 0:
            raise bad("recon_weight", "a number >= 0 (0 turns the decoders off)")
        if self.recon_weight and (self.architecture != "dcgan_any" or not recon_size(self.image_size)
                                  or self.info_codes):
            raise bad("recon_weight", "0 unless the architecture is dcgan_any, the pictures' size is 32, 64, 128, "
                      "... (4·2^k, at least 32) and info_codes is 0 (the decoders read that discriminator's 8×8 and "
                      "16×16 features)")
        if self.clusters and not self.label_architecture:
            twin = "dcgan_conditional" if takes_image_shape(self.architecture) else "small_conditional"
            raise bad("clusters", f"0 with architecture {self.architecture!r}: the clusters are the labels of a "
                      f"conditional architecture ({', '.join(sorted(CONDITIONAL))}; e.g. --architecture {twin})")
        if not (self.clusters == 0 or 2 <= self.clusters <= MAX_CLUSTERS):
            raise bad("clusters", f"0 (off) or from 2 to {MAX_CLUSTERS:,}")
        if self.class_clusters and not self.conditional:
            raise bad("class_clusters", "0 unless the preset is conditional (a conditional architecture, clusters 0): "
                      "it splits the data set's classes")
        if self.num_classes and not self.conditional:
            raise bad("num_classes", "0 unless the preset is conditional (the classes of the data set's labels)")
        if not (self.num_classes == 0 or 2 <= self.num_classes <= MAX_CLUSTERS):
            raise bad("num_classes", f"0 (count the data's classes) or from 2 to {MAX_CLUSTERS:,}")
        per_class = MAX_CLUSTERS // (self.num_classes or 10)
        if not (self.class_clusters == 0 or 2 <= self.class_clusters <= per_class):
            raise bad("class_clusters", f"0 (off) or from 2 to {per_class} clusters per class (at most "
                      f"{MAX_CLUSTERS:,} labels in all for {self.num_classes or 10} classes)")
        if not self.info_weight > 0:
            raise bad("info_weight", "a number > 0")
        if self.precision not in PRECISIONS:
            raise bad("precision", "'float32', 'mixed_bfloat16' or 'auto'")
        if self.output not in ("tanh", "sigmoid"):
            raise bad("output", "'tanh' or 'sigmoid'")
        if self.sample_unit not in ("epoch", "step"):
            raise bad("sample_unit", "'epoch' or 'step'")
        if not 8 <= self.image_size <= 1024 or self.image_size % 2:
            raise bad("image_size", "an even number of pixels from 8 to 1024 (e.g. 32 or 64)")
        if self.multiscale_d and (self.image_size % 4 or self.image_size < 16):
            raise bad("image_size", "a multiple of 4 of at least 16 (e.g. 32, 48 or 64) with multiscale_d: its "
                      "half-size discriminator needs a picture that halves twice; or turn the second scale off "
                      "(--multiscale-d false)")
        if self.channels not in (1, 3):
            raise bad("channels", "1 (grayscale) or 3 (RGB)")
        if self.image_shape != IMAGE_SHAPE and not takes_image_shape(self.architecture):
            raise bad("image_size", f"28 with channels 1: architecture {self.architecture!r} draws 28×28 "
                      "grayscale images (the DCGAN family, --architecture dcgan_any, takes any shape)")
        try:
            parse_policy(self.diff_augment)
        except ValueError as exc:
            raise bad("diff_augment", str(exc)) from None
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
        """A preset from its JSON form (``preset.json``); unknown keys are ignored (wrong types are
        reported by :meth:`validate`).

        Architectures renamed since a run was written are read under their new names."""
        if not isinstance(d, dict):
            raise ValueError(f"expected a JSON object of preset fields, got {type(d).__name__}")
        values = {k: v for k, v in d.items() if k in FIELD_TYPES}
        if values.get("architecture") in RENAMED_ARCHITECTURES:
            values["architecture"] = RENAMED_ARCHITECTURES[values["architecture"]]
        for k, v in values.items():
            if FIELD_TYPES[k] is float and type(v) is int:
                values[k] = float(v)
        return cls(**values)


FIELD_TYPES: dict[str, type] = {f.name: type(f.default) for f in fields(Preset)}
# Upper limits that keep a typo (--noise-dim 1000000000) from asking for more memory than any machine has.
MAX_CLUSTERS = 1000
LIMITS = {"noise_dim": 4096, "width": 2048, "batch_size": 65536, "d_steps": 100, "r1_every": 10 ** 6,
          "sample_every": 10 ** 9, "keep_checkpoints": 1000}
# Architecture names of earlier versions: fast -> small, cgan -> small_conditional (preset.json of old runs).
RENAMED_ARCHITECTURES = {"fast": "small", "cgan": "small_conditional", "cgan_projection": "small_projection"}


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
    name="cgan", description="Conditional GAN: label-conditioned small DCGAN with EMA sampling, draw any digit on demand",
    architecture="small_conditional", loss="bce", noise_dim=64, batch_size=64, epochs=100, g_lr=1e-3, d_lr=1e-3,
    ema_decay=0.999, precision="auto", sample_every=500, sample_unit="step",
    reference="Mirza & Osindero 2014; gan_lab's fast recipe until 2026-11-28"))
register(PRESETS["cgan"].replace(
    name="fast", description="CPU-fast class-conditional DCGAN: each class split into 10 k-means clusters, EMA "
    "sampling", class_clusters=10, reference="gan_lab (benchmarks/README.md); clusters: Liu et al. 2020"))
register(PRESETS["cgan"].replace(
    name="fast_unconditional", description="CPU-fast without labels: the fast recipe self-conditioned on 100 "
    "k-means clusters of the images (no labels used), EMA sampling", clusters=100,
    reference="gan_lab (benchmarks/README.md); self-conditioned GAN: Liu et al. 2020"))
register(Preset(
    name="fast_unconditional_plain", description="Small unconditional DCGAN with EMA sampling (fast_unconditional "
    "until 2026-11-27, the benchmark baseline)", architecture="small", loss="bce", noise_dim=64, batch_size=64,
    epochs=100, g_lr=1e-3, d_lr=1e-3, ema_decay=0.995, precision="auto", sample_every=500, sample_unit="step",
    reference="gan_lab (benchmarks/README.md)"))
register(PRESETS["fast_unconditional_plain"].replace(
    name="fast_infogan", description="fast_unconditional_plain with a 10-way InfoGAN code: categories without labels",
    info_codes=10, reference="InfoGAN: Chen et al. 2016"))
register(Preset(
    name="wgan_gp", description="WGAN-GP on Fashion-MNIST: critic loss + gradient penalty λ=10, 5 critic steps",
    dataset="fashion_mnist", architecture="small", loss="wgan", gp_weight=10.0, d_steps=5, noise_dim=128,
    batch_size=64, epochs=100, g_lr=2e-4, d_lr=2e-4, g_beta1=0.5, g_beta2=0.9, d_beta1=0.5, d_beta2=0.9,
    sample_every=200, sample_unit="step", reference="Gulrajani et al. 2017; keras.io WGAN-GP example"))
register(Preset(
    name="hinge", description="Hinge loss with a spectrally normalized discriminator (SNGAN recipe)",
    architecture="small", loss="hinge", spectral_norm=True, noise_dim=64, batch_size=64, epochs=100,
    g_lr=2e-4, d_lr=4e-4, g_beta1=0.0, g_beta2=0.9, d_beta1=0.0, d_beta2=0.9, ema_decay=0.999,
    sample_every=500, sample_unit="step", reference="Miyato et al. 2018; Lim & Ye 2017"))


# --- colour recipes (64×64 and 32×32; the data is the folder given with --data-dir unless --dataset says) -------
# Each states its FLOPs per generated image, computed from the models by gan_lab.flops.preset_flops (README table).
register(Preset(
    name="dcgan64", description="DCGAN paper / PyTorch tutorial CelebA recipe: 64×64 RGB, ngf=ndf=64, batch 128, Adam 2e-4 β1 0.5",
    dataset="folder", image_size=64, channels=3, architecture="dcgan_any", loss="bce", noise_dim=100, width=64,
    batch_size=128, epochs=500, g_lr=2e-4, d_lr=2e-4, g_beta1=0.5, d_beta1=0.5, sample_every=100,
    sample_unit="step", reference="Radford et al. 2016; pytorch.org/tutorials/beginner/dcgan_faces_tutorial"))
register(Preset(
    name="keras_faces", description="keras.io 'DCGAN to generate face images': 64×64 RGB in [0, 1], G up to 512 channels, batch 32, Adam 1e-4",
    dataset="folder", image_size=64, channels=3, architecture="keras_faces", loss="bce", noise_dim=128,
    batch_size=32, epochs=500, g_lr=1e-4, d_lr=1e-4, g_beta1=0.9, d_beta1=0.9, output="sigmoid",
    sample_every=100, sample_unit="step", reference="keras.io/examples/generative/dcgan_overriding_train_step"))
register(Preset(
    name="dcgan64_half", description="The PyTorch tutorial's DCGAN-64 at half width (ngf = ndf = 32), batch 64, "
    "Adam 2e-4 β1 0.5, EMA sampling: the untuned 64×64 baseline (fast64 until 2026-11-28)",
    dataset="folder", image_size=64, channels=3, architecture="dcgan_any", loss="bce", noise_dim=100, width=32,
    batch_size=64, epochs=2000, g_lr=2e-4, d_lr=2e-4, g_beta1=0.5, d_beta1=0.5, ema_decay=0.999,
    sample_every=250, sample_unit="step", reference="Radford et al. 2016 at half width (benchmarks/README.md)"))
register(PRESETS["dcgan64_half"].replace(
    name="fast64", description="CPU recipe at 64×64 RGB: the half-width DCGAN-64 with spectral norm, the "
    "minibatch standard deviation feature and a second, half-size scale on D, the skip generator (RGB from every "
    "resolution), Adam 5e-4 (β1 0.5), bf16 compute where the CPU has it (precision auto), batch 32 (1.9× the "
    "steps per second of 64), EMA sampling with the EMA generator's BatchNorm statistics recomputed from 512 noise "
    "vectors",
    batch_size=32, g_lr=5e-4, d_lr=5e-4, spectral_norm=True, minibatch_std=True, multiscale_d=True, skip_g=True,
    ema_bn_samples=512, precision="auto",
    reference="gan_lab (README, Measured on emoji-64; benchmarks/results/colour_levers_c2st-2026-11-28.txt, "
    "colour_seeds_600s-2026-11-29.txt)"))
register(Preset(
    name="fast32", description="CPU starting point at 32×32 RGB: half-width DCGAN (32 channels), batch 64, EMA sampling",
    dataset="folder", image_size=32, channels=3, architecture="dcgan_any", loss="bce", noise_dim=100, width=32,
    batch_size=64, epochs=2000, g_lr=2e-4, d_lr=2e-4, g_beta1=0.5, d_beta1=0.5, ema_decay=0.999,
    sample_every=250, sample_unit="step", reference="gan_lab (benchmarks/README.md, colour section)"))
register(Preset(
    name="cgan32", description="Class-conditional DCGAN at 32×32 RGB (CIFAR-10, or a folder with one sub-folder "
    "per class): label embedding in G, projection D, half width, EMA sampling", dataset="cifar10", image_size=32,
    channels=3, architecture="dcgan_conditional", loss="bce", noise_dim=100, width=32, batch_size=64, epochs=200,
    g_lr=2e-4, d_lr=2e-4, g_beta1=0.5, d_beta1=0.5, ema_decay=0.999, sample_every=500, sample_unit="step",
    reference="Mirza & Osindero 2014; projection discriminator: Miyato & Koyama 2018"))
register(Preset(
    name="cgan64", description="Class-conditional CPU recipe at 64×64 RGB for a folder with one sub-folder per "
    "class: cgan32's networks at 64×64 with fast64's spectral norm, minibatch std, Adam 5e-4, batch 32, bf16 "
    "auto and EMA BatchNorm statistics", dataset="folder", image_size=64, channels=3,
    architecture="dcgan_conditional", loss="bce", noise_dim=100, width=32, batch_size=32, epochs=2000, g_lr=5e-4,
    d_lr=5e-4, g_beta1=0.5, d_beta1=0.5, ema_decay=0.999, ema_bn_samples=512, spectral_norm=True,
    minibatch_std=True, precision="auto", sample_every=250, sample_unit="step",
    reference="gan_lab (README, Ask for hearts; benchmarks/results/cgan64-emoji-64-face-heart-3000.txt)"))

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")
KIND_WORDS = {bool: "a yes/no value", int: "an integer", float: "a float", str: "a string"}  # for errors


def parse_bool(text) -> bool:
    """``true/false``, ``1/0``, ``yes/no``, ``on/off`` (any case) → bool; anything else raises ValueError."""
    word = str(text).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not a yes/no value: expected true/false, 1/0 or yes/no")


def parse_float(text) -> float:
    """A finite float from text (``nan`` and ``inf`` are refused)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def parse_field(name: str, text: str):
    """The value of preset field ``name`` from text, converted by the field's type (the one override parser:
    the CLI flags, :func:`parse_overrides` and notebooks' ``FIELD=VALUE`` strings all use it)."""
    kind = FIELD_TYPES[name]
    try:
        if kind is bool:
            return parse_bool(text)
        if kind is float:
            return parse_float(text)
        return kind(text)
    except ValueError as exc:
        raise ValueError(f"{name} takes {KIND_WORDS[kind]}, "
                         f"got {text!r} ({exc})") from None


def parse_overrides(items) -> dict:
    """``["g_lr=2e-4", "spectral_norm=true", ...]`` → ``{"g_lr": 0.0002, "spectral_norm": True, ...}``, each value
    converted by :func:`parse_field`; unknown fields and bad values raise ValueError naming the item."""
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or key not in FIELD_TYPES:
            raise ValueError(f"{item!r} is not FIELD=VALUE with a preset field: expected one of "
                             f"{', '.join(sorted(FIELD_TYPES))}")
        out[key] = parse_field(key, text)
    return out


def field_flag(name: str) -> str:
    """The command-line flag of a preset field: ``g_lr`` → ``--g-lr``."""
    return "--" + name.replace("_", "-")


# Fields that are not flags of `train`: the name and texts describe a recipe, --dataset and --epochs are
# train options of their own.
NOT_FLAGS = ("name", "description", "reference", "dataset", "epochs")


def add_preset_arguments(parser: argparse.ArgumentParser):
    """Add one flag per preset field (``--batch-size``, ``--spectral-norm yes``, ...) and ``--lr`` (both rates)."""
    group = parser.add_argument_group("preset fields (override the preset's value)")

    def converter(name):
        def convert(text):
            try:
                return parse_field(name, text)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None
        return convert

    for name, kind in FIELD_TYPES.items():
        if name not in NOT_FLAGS:
            group.add_argument(field_flag(name), dest=f"field_{name}", type=converter(name), default=None,
                               metavar="yes/no" if kind is bool else kind.__name__.upper())
    group.add_argument("--lr", type=converter("g_lr"), default=None, metavar="FLOAT",
                       help="set both --g-lr and --d-lr")


def overrides_from_args(args) -> dict:
    """The preset fields set on the command line (see :func:`add_preset_arguments`)."""
    out = {name: getattr(args, f"field_{name}") for name in FIELD_TYPES
           if getattr(args, f"field_{name}", None) is not None}
    if getattr(args, "lr", None) is not None:
        out.setdefault("g_lr", args.lr)
        out.setdefault("d_lr", args.lr)
    return out


def get_preset(name: str, **overrides) -> Preset:
    """The named preset, with optional field overrides; unknown names raise a ValueError listing the choices."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}: expected one of {', '.join(PRESETS)} "
                         "(run `python -m gan_lab presets` to list them)")
    preset = PRESETS[name]
    return preset.replace(**overrides) if overrides else preset
