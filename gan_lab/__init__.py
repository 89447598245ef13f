"""gan_lab: learn Generative Adversarial Networks by building and training them on MNIST and Fashion-MNIST.

Modules, one job each:

- :mod:`gan_lab.data`     — find, validate and load MNIST / Fashion-MNIST; tf.data pipelines
- :mod:`gan_lab.models`   — generator and discriminator builders (dense, DCGAN, the seeds' recipes)
- :mod:`gan_lab.losses`   — GAN losses as pure functions (BCE, minimax, LSGAN, ...)
- :mod:`gan_lab.train`    — the ``tf.function`` train step, the ``GAN`` Keras model, callbacks, ``train()``
- :mod:`gan_lab.presets`  — the ``Preset`` dataclass of hyperparameters and the named recipes
- :mod:`gan_lab.checks`   — learner checks against the ``unit-testing-data`` fixtures
- :mod:`gan_lab.plots`    — sample grids, loss curves, GIFs
- :mod:`gan_lab.sampling` — drawing images from a generator (noise, class labels, output range)
- :mod:`gan_lab.metrics`  — sample-quality metrics as pure NumPy functions (FID form, precision/recall, ...)
- :mod:`gan_lab.evaluation` — scoring images, generators and run folders; ``gan_lab evaluate``; QualityCallback
- :mod:`gan_lab.cli`      — ``python -m gan_lab ...``

Submodules are imported lazily so ``import gan_lab`` is fast; ``gan_lab.models`` etc. work as usual.
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = ("data", "ops", "models", "losses", "train", "callbacks", "presets", "checks", "plots", "cli", "metrics",
               "evaluation", "sampling", "runs")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'gan_lab' has no attribute {name!r}")
