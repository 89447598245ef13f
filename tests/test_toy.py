"""gan_lab.toy: the ring of Gaussians, the mode count, the toy networks, the snapshots (decision surface and the
generator's gradient field) and the training loop (short runs: the notebook 00 shows the long ones)."""
import keras
import matplotlib
import numpy as np

from gan_lab import toy

matplotlib.use("Agg")


def test_mode_centers_lie_evenly_on_the_ring():
    c = toy.mode_centers()
    assert c.shape == (8, 2) and c.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(c[0], [2.0, 0.0], atol=1e-6)
    gaps = np.linalg.norm(c - np.roll(c, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * 2.0 * np.sin(np.pi / 8), rtol=1e-5)


def test_ring_data_is_the_mixture_and_reproducible():
    x = toy.ring_data(4000, seed=3)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    d = np.linalg.norm(x[:, None] - toy.mode_centers()[None], axis=2)
    assert d.min(axis=1).max() < 6 * toy.STD  # every point near a centre
    shares = np.bincount(d.argmin(axis=1), minlength=8) / len(x)
    assert np.all(np.abs(shares - 1 / 8) < 0.03)  # modes chosen uniformly
    np.testing.assert_array_equal(x, toy.ring_data(4000, seed=3))
    assert not np.array_equal(x, toy.ring_data(4000, seed=4))


def test_modes_covered_counts_modes_with_enough_close_points():
    c = toy.mode_centers()
    assert toy.modes_covered(toy.ring_data(2000)) == 8
    three = np.concatenate([np.repeat(c[[0, 2, 5]], 100, axis=0)])
    assert toy.modes_covered(three) == 3
    counts, high_quality = toy.mode_counts(three)
    assert list(counts) == [100, 0, 100, 0, 0, 100, 0, 0] and high_quality == 1.0
    between = (c[0] + c[1]) / 2  # a point between two modes is no mode's
    assert toy.modes_covered(np.repeat(between[None], 50, axis=0)) == 0
    assert toy.mode_counts(np.repeat(between[None], 50, axis=0))[1] == 0.0
    stray = np.concatenate([np.repeat(c[[0]], 1000, axis=0), c[[4]]])  # one stray point is < 1 % of them
    assert toy.modes_covered(stray) == 1 and toy.modes_covered(stray, min_share=0) == 2


def test_toy_networks_shapes():
    g, d = toy.toy_generator(noise_dim=5, width=8), toy.toy_discriminator(width=8)
    assert g(np.zeros((3, 5), np.float32)).shape == (3, 2)
    assert d(np.zeros((3, 2), np.float32)).shape == (3, 1)
    assert d.layers[-1].activation is keras.activations.linear  # logits, no sigmoid


def linear_discriminator(w, b=0.0):
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    d.layers[0].set_weights([np.array(w, np.float32).reshape(2, 1), np.array([b], np.float32)])
    return d


def test_snapshot_arrows_point_where_the_discriminator_says_real():
    """D's logit is x₀ (real to the right): the non-saturating generator loss pushes every fake to the right."""
    g = toy.toy_generator(noise_dim=3, width=8)
    d = linear_discriminator([1.0, 0.0])
    from gan_lab import losses
    noise = np.random.default_rng(0).uniform(-1, 1, (20, 3)).astype(np.float32)
    snap = toy.snapshot(g, d, losses.generator_loss, 7, toy.ring_data(10), noise, grid_size=11, n_arrows=10)
    assert snap.step == 7 and snap.fake.shape == (20, 2) and snap.arrows.shape == (10, 2)
    assert np.all(snap.arrows[:, 0] > 0) and np.allclose(snap.arrows[:, 1], 0, atol=1e-6)
    # -d/dx of softplus(-x) is sigmoid(-x): the push is strongest where D says "fake"
    np.testing.assert_allclose(snap.arrows[:, 0], 1 / (1 + np.exp(snap.fake[:10, 0])), rtol=1e-4)
    assert snap.surface.shape == (11, 11)
    np.testing.assert_allclose(snap.surface[:, 5], 0.5, atol=1e-6)  # x₀ = 0 in the middle column: D = 1/2
    assert np.all(np.diff(snap.surface[0]) > 0)  # D grows to the right


def test_train_toy_records_history_and_snapshots_and_is_reproducible():
    setting = toy.ToySetting(batch_size=32, width=16, seed=5)
    run = toy.train_toy(setting, steps=30, snapshot_every=10, n_show=64, grid_size=9)
    assert run.history["step"] == list(range(1, 31))
    assert [s.step for s in run.snapshots] == [0, 10, 20, 30]
    assert all(np.isfinite(run.history["d_loss"])) and all(np.isfinite(run.history["g_loss"]))
    assert run.samples(100).shape == (100, 2) and 0 <= run.modes_covered(100) <= 8
    assert run.snapshots[-1].d_loss == run.history["d_loss"][-1]
    again = toy.train_toy(setting, steps=30, snapshot_every=10, n_show=64, grid_size=9)
    np.testing.assert_allclose(again.history["g_loss"], run.history["g_loss"], rtol=1e-5)
    np.testing.assert_allclose(again.snapshots[-1].fake, run.snapshots[-1].fake, rtol=1e-5, atol=1e-6)


def test_train_toy_takes_the_real_data_sampler():
    """``real_data`` replaces ring_data: asked once for the training points and once for the shown ones."""
    calls = []

    def one_mode(n, seed):
        calls.append((n, seed))
        return np.tile(toy.mode_centers()[3], (n, 1)).astype(np.float64)  # converted to float32

    setting = toy.ToySetting(batch_size=16, width=8, seed=2)
    run = toy.train_toy(setting, steps=3, snapshot_every=3, n_show=20, grid_size=5, real_data=one_mode)
    assert calls == [(3 * 16, 2), (20, 3)]
    assert run.snapshots[0].real.dtype == np.float32
    np.testing.assert_array_equal(run.snapshots[0].real, np.tile(toy.mode_centers()[3], (20, 1)))
    default = toy.train_toy(setting, steps=3, snapshot_every=3, n_show=20, grid_size=5)
    passed = toy.train_toy(setting, steps=3, snapshot_every=3, n_show=20, grid_size=5, real_data=toy.ring_data)
    np.testing.assert_array_equal(default.snapshots[0].real, passed.snapshots[0].real)
    np.testing.assert_allclose(default.history["d_loss"], passed.history["d_loss"], rtol=1e-6)
    assert not np.allclose(default.history["d_loss"], run.history["d_loss"])  # the sampler's points were trained on


def test_train_toy_wgan_gp_and_d_steps():
    setting = toy.ToySetting(loss="wgan", gp_weight=1.0, d_steps=3, beta2=0.9, batch_size=32, width=16)
    run = toy.train_toy(setting, steps=12, snapshot_every=6, n_show=32, grid_size=7)
    assert len(run.history["d_loss"]) == 12 and all(np.isfinite(run.history["d_loss"]))
    assert int(run.g_optimizer.iterations) == 12 and int(run.d_optimizer.iterations) == 36  # 3 critic steps each


def test_plot_snapshots_draws_one_panel_per_snapshot():
    run = toy.train_toy(toy.ToySetting(batch_size=16, width=8), steps=4, snapshot_every=2, n_show=32, grid_size=7)
    fig = toy.plot_snapshots(run.snapshots, title="t", ncols=2)
    panels = [ax for ax in fig.axes if ax.has_data()]
    assert len(panels) == 3 and len(fig.axes) == 4  # 3 snapshots on a 2×2 grid: the 4th is blank
    assert "modes" in panels[0].get_title()
