"""FLOPs of one GAN update, checked against a count by hand for a small model."""
import keras
import pytest
from keras import layers

from gan_lab.flops import (decoder_flops, layer_flops, model_cost, preset_models, preset_update_flops,
                            update_flops)
from gan_lab.presets import get_preset


@pytest.fixture(scope="module")
def small_pair():
    z = keras.Input((4,))
    x = layers.Reshape((7, 7, 2))(layers.Dense(7 * 7 * 2)(z))
    g = keras.Model(z, layers.Conv2DTranspose(1, 4, strides=2, padding="same")(x))            # -> 14×14×1
    img = keras.Input((14, 14, 1))
    h = layers.Flatten()(layers.LeakyReLU()(layers.Conv2D(3, 4, strides=2, padding="same")(img)))  # 7×7×3
    d = keras.Model(img, layers.Dense(1)(h))
    return g, d


def test_each_layer_is_two_flops_per_multiply_add(small_pair):
    g, d = small_pair
    # by hand: Dense 4->98: 4·98 MACs; ConvT: each of 7·7·2 inputs scatters 4·4·1 outputs;
    # Conv: each of 7·7·3 outputs sums 4·4·1 inputs; Dense 147->1
    assert [layer_flops(layer) for layer in g.layers if layer_flops(layer)] == [2 * 4 * 98, 2 * 49 * 2 * 16]
    assert [layer_flops(layer) for layer in d.layers if layer_flops(layer)] == [2 * 49 * 3 * 16, 2 * 147]
    assert model_cost(g).forward == 784 + 3136 and model_cost(d).first == 4704


def test_an_update_counts_only_the_gradients_it_computes(small_pair):
    g, d = small_pair
    G, D, D_after_first, G_after_first = 3920, 4998, 294, 3136
    d_step = G + 2 * D + 2 * (D + D_after_first)        # fakes; D on both; D weight + input grads on both
    g_step = G + D + D + G + G_after_first              # fakes through D; D input grads; G weight + input grads
    assert (d_step, g_step) == (24500, 20972)
    assert update_flops(g, d, batch_size=8) == {"d_step": 8 * d_step, "g_step": 8 * g_step,
                                                 "total": 8 * (d_step + g_step)}
    assert update_flops(g, d, batch_size=8, d_steps=5)["d_step"] == 5 * 8 * d_step


def test_presets_scale_with_batch_and_critic_steps():
    fast = preset_update_flops(get_preset("fast_unconditional"))
    double = preset_update_flops(get_preset("fast_unconditional", batch_size=128))
    assert double["total"] == 2 * fast["total"]
    spectral = preset_update_flops(get_preset("fast_unconditional", spectral_norm=True))
    assert spectral == fast  # the wrapped layers are counted like the plain ones


def test_fastgans_decoders_are_counted_on_the_real_images_of_each_discriminator_step():
    """fast64's decoders, by hand: whole from D's 8×8×128 features (up, 3×3 conv to 16, up, to 8, to 3), part from
    an 8×8×64 quarter of the 16×16 ones (to 8, to 4, to 3), all convs at 16×16 then 32×32; 2 FLOPs per MAC."""
    conv = lambda size, c_in, c_out: 2 * size * size * 9 * c_in * c_out
    whole = conv(16, 128, 16) + conv(32, 16, 8) + conv(32, 8, 3)
    part = conv(16, 64, 8) + conv(32, 8, 4) + conv(32, 4, 3)
    preset = get_preset("fast64", recon_weight=1.0)
    _, discriminator = preset_models(preset)
    assert decoder_flops(preset, discriminator) == whole + part
    assert decoder_flops(get_preset("fast64"), discriminator) == 0
    plain = preset_update_flops(get_preset("fast64"))
    assert preset_update_flops(preset)["d_step"] - plain["d_step"] == 3 * (whole + part) * preset.batch_size
    assert preset_update_flops(preset)["g_step"] == plain["g_step"]
