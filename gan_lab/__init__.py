"""gan_lab: learn Generative Adversarial Networks by building and training them on MNIST and Fashion-MNIST.

Modules, one job each:

- :mod:`gan_lab.data`     — find, validate and load MNIST / Fashion-MNIST; tf.data pipelines
- :mod:`gan_lab.models`   — generator and discriminator builders (dense, DCGAN, the seeds' recipes)
- :mod:`gan_lab.losses`   — GAN losses as pure functions (BCE, minimax, LSGAN, WGAN, hinge, gradient penalty)
- :mod:`gan_lab.gan`      — the GAN update (``tf.GradientTape``), the ``GAN`` Keras model, ``run_a_gan``
- :mod:`gan_lab.sampling` — drawing images from a generator (noise → pictures, conditional or not)
- :mod:`gan_lab.train`    — ``train()``: a preset into a run folder, read top to bottom
- :mod:`gan_lab.runs`     — the run folder: layout, preset.json / run_state.json, resume rules, ``sample()``
- :mod:`gan_lab.callbacks` — history, sample grids, time/step budget, checkpoints, divergence guard, signals
- :mod:`gan_lab.distribute` — ``tf.distribute`` strategies and what several workers do differently
- :mod:`gan_lab.presets`  — the ``Preset`` dataclass of hyperparameters and the named recipes
- :mod:`gan_lab.checks`   — learner checks against the fixtures (packaged in ``gan_lab/fixtures``)
- :mod:`gan_lab.plots`    — sample grids, loss curves, GIFs
- :mod:`gan_lab.metrics`  — sample-quality metrics as pure NumPy functions (FID form, precision/recall, ...)
- :mod:`gan_lab.evaluation` — scoring images, generators and run folders; ``gan-lab evaluate``; QualityCallback
- :mod:`gan_lab.explore`  — latent-space interpolation
- :mod:`gan_lab.toy`      — a 2-D toy GAN (ring of Gaussians): mode counts, decision surface, gradient field
- :mod:`gan_lab.files`    — atomic file writes
- :mod:`gan_lab.flops`    — FLOPs of one GAN update, counted layer by layer
- :mod:`gan_lab.clusters` — k-means clusters of the training images (labels of a self-conditioned GAN)
- :mod:`gan_lab.cli`      — ``gan-lab ...`` (``python -m gan_lab ...``)

Submodules are imported lazily so ``import gan_lab`` is fast; ``gan_lab.models`` etc. work as usual.
gan_lab needs Keras's TensorFlow backend: under another (``KERAS_BACKEND=jax``, ...) ``import gan_lab``
raises :class:`gan_lab._backend.KerasBackendError`, one line saying how to switch (no TensorFlow import).
"""
import importlib

from gan_lab._backend import require_tensorflow_backend

require_tensorflow_backend()

__version__ = "0.1.0"

_SUBMODULES = ("data", "ops", "models", "losses", "gan", "sampling", "train", "runs", "callbacks", "distribute", "presets",
               "checks", "plots", "metrics", "evaluation", "explore", "files", "flops", "cli", "toy", "clusters")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'gan_lab' has no attribute {name!r}")
