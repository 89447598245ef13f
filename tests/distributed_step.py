"""Helper run in a subprocess by test_distribute.py: one GAN update on 1 device vs MirroredStrategy over
2 logical CPU devices, same global batch, same initial weights, same noise. Prints a JSON comparison."""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from gan_lab.distribute import configure_cpu_replicas  # noqa: E402

configure_cpu_replicas(2)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lab.losses import get_loss  # noqa: E402
from gan_lab.models import dense_discriminator, dense_generator  # noqa: E402
from gan_lab.gan import StepSeeds, gan_update, replica_id  # noqa: E402

B, ND = 64, 16
rng = np.random.default_rng(0)
real = rng.uniform(-1, 1, (B, 784)).astype("float32")
noise = rng.uniform(-1, 1, (2, B, ND)).astype("float32")  # draw k of the update: noise[k]
keras.utils.set_random_seed(0)
g0, d0 = dense_generator(noise_dim=ND), dense_discriminator()
g_init, d_init = g0.get_weights(), d0.get_weights()
d_loss_fn, g_loss_fn = get_loss("bce")


def run(strategy):
    with strategy.scope():
        g, d = dense_generator(noise_dim=ND), dense_discriminator()
        g.set_weights(g_init)
        d.set_weights(d_init)
        d_opt, g_opt = keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5)
        d_opt.build(d.trainable_variables)
        g_opt.build(g.trainable_variables)
    replicas = strategy.num_replicas_in_sync
    per = B // replicas

    class FixedNoise(StepSeeds):  # draw k of the update: this replica's share of noise[k]
        def noise(self, batch, k, noise_dim):
            start = tf.cast(replica_id(), tf.int32) * per
            return tf.slice(tf.constant(noise[k]), [start, 0], [batch, noise_dim])

    seeds = FixedNoise(0, g_opt.iterations, 1)

    @tf.function
    def step(x):
        return strategy.run(lambda xb: gan_update(g, d, d_opt, g_opt, d_loss_fn, g_loss_fn, xb, seeds, ND),
                            args=(x,))

    ds = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(real).batch(B))
    out = step(next(iter(ds)))
    losses = {k: float(strategy.reduce("MEAN", v, axis=None)) for k, v in out.items()}
    return losses, [w.numpy() for w in g.weights], [w.numpy() for w in d.weights], replicas


single = run(tf.distribute.get_strategy())
mirrored = run(tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")]))
changed = max(float(np.abs(a - b).max()) for a, b in zip(single[1], g_init))
result = {
    "replicas": [single[3], mirrored[3]],
    "losses_single": single[0], "losses_mirrored": mirrored[0],
    "max_g_weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(single[1], mirrored[1])),
    "max_d_weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(single[2], mirrored[2])),
    "max_g_weight_change": changed,
}
json.dump(result, sys.stdout)
