"""DeAltHDR's per-frame, per-pair and per-window pieces run in row bands: the same numbers
in bounded memory (the streaming model's path for large frames).

At 1080p one full-resolution map of DeAltHDR (32 channels of 1088 x 1920 floats) is
267 MB, and the pieces widen it: a GFFW to 160 channels, the FGMA of four neighbours to
four maps at once, SpyNet's finest basic module to 64 channels, so whole-frame evaluation
held about 15 GB. Here each piece runs on bands of rows with a halo of as many rows as its
convolutions reach (3x3: 1 row each, SpyNet's five 7x7: 15), so only one band's wide
intermediates exist at a time; between pieces a level's map is one numpy array. What is
global over pixels runs in two passes, exactly:

* channel (C x C) attention, in 'Channel'/'FHR' blocks and in FGMA: pass 1 sums the Gram
  matrix q^T k and the squared norms of q's and k's channels over the bands, pass 2
  applies the softmax of the normalised Gram matrix to each band's v
  (`hdrkeras.ops.attention.channel_gram` and friends);
* bilinear warps (SpyNet, the consistency error, FGMA) sample the whole source map from
  a band of flow (`dealthdr_warp(..., row_offset)`).

What a stream caches per frame can leave out the largest map, the level-1 features (32
channels at full resolution): their encoder level (a 3x3 projection and convolutional
blocks) is row-local, so `Level1Rows` recomputes any range of rows from the frame's
6-channel input plus a halo, and the decoder reads it like the numpy map (the centre's
skip connection, each neighbour's FGMA keys, values and the rows its warp reaches).

Every function takes `band_floats`: a band of a map [1, H, W, C] has band_floats //
(W C) rows (even, so a band maps onto whole rows of the next level; SpyNet counts its
widest, 64 channels), so its widest intermediate (5 C in a GFFW) holds about 5 x
band_floats floats whatever the level; a map of fewer rows is one band. Results equal
the whole-frame sub-models of `DeAltHDR` up to float summation order
(tests/test_dealthdr_banded.py).
"""

from fractions import Fraction

import numpy as np
import tensorflow as tf

from hdrkeras.layers.spy_net import LEVELS, dealthdr_warp
from hdrkeras.ops.attention import apply_attention, attention_from_gram, channel_gram
from hdrkeras.ops.warp import resize_flow, source_rows

SPYNET_REACH = 15  # rows: five 7x7 convs
SPYNET_WIDTH = 64  # channels of its widest map


def band_rows(width, channels, band_floats):
    """Rows per band of a map `width` pixels wide with `channels` channels: even, >= 2."""
    return max(2, int(band_floats) // (int(width) * int(channels)) // 2 * 2)


def row_bands(height, rows):
    return [(r0, min(r0 + rows, height)) for r0 in range(0, height, rows)]


def map_bands(fn, src, out_height, band_floats, halo=0, scale=1, in_place=False,
              channels=None):
    """A map [B, out_height, W', C'] computed band by band: out rows r0:r1 are cropped from
    fn(src rows a:b, lo, hi), where a:b holds the source rows of r0:r1 plus `halo` rows on
    each side (clipped at the map's edges, where a convolution's zero padding is the
    whole-map one) and lo:hi are the output rows fn's result covers.

    Args:
      fn: callable (src band tensor, lo, hi) -> tensor [B, hi - lo, W', C'].
      src: array [B, H, W, C], numpy or tensor.
      out_height: int. Rows of the result.
      band_floats: int. Floats per band of a map (see `band_rows`).
      halo: int. Source rows each output row reaches on either side.
      scale: source rows per output row (2: the source is twice as fine, e.g. before a
        pixel unshuffle; 1/2: twice as coarse, before a pixel shuffle).
      channels: int. Channels that size the bands (default: src's).
      in_place: bool. Write the result over src (a numpy map of the result's shape, scale
        1, that the caller gives up): each band is written once the next one has read
        its halo, so no second full map exists. Defaults to False.

    Returns:
      numpy float32 [B, out_height, W', C'] (numpy, not a tensor: TensorFlow would copy
      a whole map to wrap it, so callers slice bands of it instead).
    """
    scale = Fraction(scale)
    step = scale.numerator  # the halo covers whole output rows
    halo = -(-int(halo) // step) * step
    height = src.shape[1]
    out, pending = None, None
    rows = band_rows(src.shape[2] / scale, channels or src.shape[-1], band_floats)
    # In place, band k is written after band k + 1 has read rows from r1_k - halo on.
    in_place = (in_place and isinstance(src, np.ndarray) and scale == 1 and rows >= halo
                and out_height == height)
    for r0, r1 in row_bands(out_height, rows):
        a = max(int(r0 * scale) - halo, 0)
        b = min(int(r1 * scale) + halo, height)
        lo, hi = int(a / scale), int(b / scale)
        y = np.asarray(fn(tf.convert_to_tensor(src[:, a:b]), lo, hi)[:, r0 - lo:r1 - lo],
                       np.float32)
        if out is None:
            if in_place and y.shape[2:] == src.shape[2:]:
                out = src
            else:
                in_place = False
                out = np.empty((y.shape[0], out_height) + tuple(y.shape[2:]), np.float32)
        if pending is not None:
            out[:, pending[0]:pending[1]] = pending[2]
            pending = None
        if in_place:
            pending = (r0, r1, y)
        else:
            out[:, r0:r1] = y
    if pending is not None:
        out[:, pending[0]:pending[1]] = pending[2]
    return out


def sum_bands(fn, src, band_floats, halo=0):
    """Sum over the bands of src [B, H, W, C] of fn(band, top, r0, r1): the band holds
    src rows r0:r1 from row `top` on, with up to `halo` more rows on each side; fn returns
    a tuple of sums over its rows r0:r1."""
    height, total = src.shape[1], None
    for r0, r1 in row_bands(height, band_rows(src.shape[2], src.shape[-1], band_floats)):
        a, b = max(r0 - halo, 0), min(r1 + halo, height)
        sums = fn(tf.convert_to_tensor(src[:, a:b]), r0 - a, r0, r1)
        total = sums if total is None else tuple(t + s for t, s in zip(total, sums))
    return total


# === Blocks ===

def _reach(block):
    """Rows a DeAltHDRBlock output row reaches with local (convolutional) mixers."""
    attn = {"ReducedAttn": 1, "NoAttn": 0, "Channel": 1, "FHR": 1}[block.attention_type]
    return attn + (1 if block.ffw_type == "GFFW" else 0)


def run_block(block, x, band_floats, in_place=False):
    """A DeAltHDRBlock on x [B, H, W, C] in bands (channel attention in two passes);
    in_place: over x's memory (see `map_bands`)."""
    height = x.shape[1]
    if (block.attention_type not in ("Channel", "FHR")
            or band_rows(x.shape[2], x.shape[-1], band_floats) >= height):  # one pass

        return map_bands(lambda band, lo, hi: block(band), x, height, band_floats,
                         halo=_reach(block), in_place=in_place)
    attn = block.attn

    def qkv(band):
        return tf.split(attn.qkv_dwconv(attn.qkv(block.norm1(band))), 3, axis=-1)

    def gram(band, top, r0, r1):
        q, k, _ = qkv(band)
        end = top + r1 - r0
        return channel_gram(q[:, top:end], k[:, top:end], attn.num_heads)

    matrix = attention_from_gram(*sum_bands(gram, x, band_floats, halo=1), attn.temperature)

    def rest(band, lo, hi):
        _, _, v = qkv(band)
        y = band + attn.project_out(apply_attention(matrix, v))
        return y + block.ffn(block.norm2(y))

    return map_bands(rest, x, height, band_floats, halo=_reach(block), in_place=in_place)


def run_blocks(blocks, x, band_floats):
    """The blocks in turn, over x's own memory (x: a map the caller gives up)."""
    for block in blocks:
        x = run_block(block, x, band_floats, in_place=True)
    return x


def _level_blocks(model, prefix, n):
    return [model.get_layer(f"{prefix}_{i}") for i in range(n)]


def _down(conv, unshuffle, x, band_floats):
    """3x3 conv then pixel unshuffle, in bands of the half-resolution output."""
    return map_bands(lambda band, lo, hi: unshuffle(conv(band)), x, x.shape[1] // 2,
                     band_floats, halo=1, scale=2)


# === Per frame ===

def _level1_pieces(net, is_long):
    """(input projection, level-1 blocks) of the encoder of this exposure."""
    encoder = net.long_encoder if is_long else net.short_encoder
    if net.use_dual_encoder:
        pre = "long_" if is_long else "short_"
        projection = encoder.get_layer(f"{pre}exposure_projection")
    else:
        pre, projection = "", encoder.get_layer("input_projection")
    blocks = _level_blocks(encoder, f"{pre}encoder_level1", net.get_config()["Enc_blocks"][0])
    return projection, blocks


def _level1(net, is_long, frame, band_floats):
    """Level-1 encoder features of frame [1, h, W, Cf] (numpy), in bands of a level-1 map."""
    projection, blocks = _level1_pieces(net, is_long)
    x = map_bands(lambda band, lo, hi: projection(band), frame, frame.shape[1], band_floats,
                  halo=1, channels=net.get_config()["dim"])
    return run_blocks(blocks, x, band_floats)


def level1_reach(net, is_long):
    """Rows a level-1 feature row reaches in the frame (the projection's 3x3 and each
    block's convolutions), or None when a level-1 block is global over pixels (channel
    attention) and a row cannot be recomputed from nearby rows."""
    _, blocks = _level1_pieces(net, is_long)
    if any(b.attention_type in ("Channel", "FHR") for b in blocks):
        return None
    return 1 + sum(_reach(b) for b in blocks)


class Level1Rows:
    """A frame's level-1 encoder features [1, H, W, dim], recomputed row range by row range
    from its padded input instead of held (267 MB at 1080p against the input's 50 MB).

    `rows[:, a:b]` runs the input projection and the level-1 blocks on input rows a:b plus
    `level1_reach` rows on each side (the convolutions' zero padding is the whole map's
    only at the frame's edges; the rows it spoils inside are cut off), so it equals rows
    a:b of the whole-frame features up to float rounding. Reads only rows, like a numpy
    map (`.shape`, `[:, a:b]`), so the decoder takes either.
    """

    def __init__(self, net, is_long, frame, band_floats):
        self.net, self.is_long, self.frame = net, is_long, frame
        self.band_floats = band_floats
        self.reach = level1_reach(net, is_long)
        if self.reach is None:
            raise ValueError("level-1 features with channel attention are not row-local")
        self.shape = tuple(frame.shape[:3]) + (net.get_config()["dim"],)

    def __getitem__(self, index):
        batch, rows = index
        if batch != slice(None) or rows.step not in (None, 1):
            raise IndexError(f"Level1Rows takes [:, a:b], got {index!r}")
        r0, r1, _ = rows.indices(self.shape[1])
        a, b = max(r0 - self.reach, 0), min(r1 + self.reach, self.shape[1])
        return _level1(self.net, self.is_long, self.frame[:, a:b],
                       self.band_floats)[:, r0 - a:r1 - a]


def encode(net, is_long, frame, band_floats, keep_level1=True):
    """`net.long_encoder` / `short_encoder` (by is_long) of one padded frame [1, H, W, Cf]
    in bands: three numpy feature levels; keep_level1=False gives a `Level1Rows` in place
    of the first (the frame must stay unchanged while it is used)."""
    encoder = net.long_encoder if is_long else net.short_encoder
    cfg = net.get_config()
    pre = ("long_" if is_long else "short_") if net.use_dual_encoder else ""
    x = _level1(net, is_long, frame, band_floats)
    feats = [x if keep_level1 else Level1Rows(net, is_long, frame, band_floats)]
    for level in (2, 3):
        down = f"down{level - 1}_{level}"
        x = _down(encoder.get_layer(down), encoder.get_layer(f"{down}_unshuffle"), x,
                  band_floats)
        x = run_blocks(_level_blocks(encoder, f"{pre}encoder_level{level}",
                                     cfg["Enc_blocks"][level - 1]), x, band_floats)
        feats.append(x)
    return feats


# === Per pair ===

def spynet_flow(spynet, ref, supp, band_floats):
    """SpyNet([ref, supp]) of padded frames [1, H, W, 3], each level's basic module in
    bands (15 rows of reach); the coarser levels' flow is upsampled whole (2 channels)."""
    refs, supps = spynet.pyramids(tf.convert_to_tensor(ref), tf.convert_to_tensor(supp))
    flow = spynet.coarsest_flow(refs)
    for level in range(LEVELS - 1, -1, -1):
        up = spynet.upsample(flow, tf.shape(refs[level])[1:3])

        def residual(band, lo, hi, level=level):
            return spynet.residual(level, refs[level][:, lo:hi],
                                   dealthdr_warp(supps[level], band, row_offset=lo), band)

        flow = up + map_bands(residual, up, up.shape[1], band_floats, halo=SPYNET_REACH,
                              channels=SPYNET_WIDTH)
    return np.asarray(flow)


def consistency_error(image, flow_fwd, flow_bwd, band_floats):
    """`FlowConsistencyError` ([1, H, W, 1]) in bands: the frame warped by the forward flow
    (3 channels, whole), then back by the backward flow band by band."""
    height = image.shape[1]
    image = tf.convert_to_tensor(image)
    there = tf.convert_to_tensor(map_bands(
        lambda band, lo, hi: dealthdr_warp(image, band, row_offset=lo), flow_fwd, height,
        band_floats))

    def error(band, lo, hi):
        back = dealthdr_warp(there, band, row_offset=lo)
        return tf.reduce_mean(tf.abs(back - image[:, lo:hi]), axis=-1, keepdims=True)

    return map_bands(error, flow_bwd, height, band_floats)


# === Per window ===

class _FloatRows:
    """Rows of a bool numpy mask as float32 {0, 1} tensors (mask[:, a:b])."""

    def __init__(self, mask):
        self.mask = mask

    def __getitem__(self, index):
        return tf.convert_to_tensor(self.mask[index].astype(np.float32))


def align_and_fuse(fgma, fusion, x, neighbours, flows, masks, band_floats):
    """FlowGuidedMaskedAttention then HDRFusion at one decoder level, in bands.

    x [1, h, w, C] the centre's decoder features; neighbours: N maps [1, h, w, C] (numpy or
    `Level1Rows`); flows, masks: N image-resolution flows [1, H, W, 2] and {0, 1} masks
    [1, H, W, 1], resized here to (h, w) as FGMA does. Pass 1 sums each neighbour's Gram
    matrix of the masked queries and keys over the bands; pass 2 aligns the neighbours band
    by band and fuses.
    """
    h, w = x.shape[1], x.shape[2]
    if (h, w) != tuple(flows[0].shape[1:3]):  # a whole-map resize (the identity skipped)
        flows = [np.asarray(resize_flow(f, h, w)) for f in flows]
        masks = [np.asarray(resize_flow(tf.cast(m, tf.float32), h, w)) > 0.5 for m in masks]
    # numpy maps: a band is cast to a float {0, 1} tensor when used
    masks = [_FloatRows(m) for m in masks]
    matrices = []
    for nb, mask in zip(neighbours, masks):
        def gram(band, top, r0, r1, nb=nb, mask=mask):
            return channel_gram(fgma.proj_q(band) * mask[:, r0:r1],
                                fgma.proj_k(nb[:, r0:r1]), fgma.num_heads)

        # A mask with no 1 discards the attention: none computed.
        matrices.append(attention_from_gram(*sum_bands(gram, x, band_floats),
                                            fgma.temperature)
                        if mask.mask.any() else None)

    def aligned_fused(band, lo, hi):
        aligned = []
        for nb, flow, mask, matrix in zip(neighbours, flows, masks, matrices):
            m, flow = mask[:, lo:hi], flow[:, lo:hi]
            attend, warp = matrix is not None, True
            if attend:  # a band all 0 (all 1) discards the attention (the warp) exactly
                ones = float(tf.reduce_sum(m))
                attend, warp = ones > 0, ones < int(tf.size(m))
            # One read of nb (a numpy map or recomputed `Level1Rows`) covers the band's
            # own rows (attention) and the rows its flow reaches (warp).
            a, b = lo, hi
            if warp:
                first, end = source_rows(flow, h, "align_corners_false", lo)
                a, b = (min(a, first), max(b, end)) if attend else (first, end)
            rows = tf.convert_to_tensor(nb[:, a:b])
            parts = []
            if attend:
                v = fgma.proj_v(rows[:, lo - a:hi - a])
                parts.append(m * fgma.project_out(apply_attention(matrix, v)))
            if warp:
                parts.append((1.0 - m) * dealthdr_warp(rows[:, first - a:end - a], flow,
                                                       row_offset=lo, source_row0=first,
                                                       height=h))
            aligned.append(parts[0] if len(parts) == 1 else parts[0] + parts[1])
        return fusion([band, tf.stack(aligned, axis=1)])

    return map_bands(aligned_fused, x, h, band_floats, in_place=True)


def decode(net, centre, neighbours, flows, masks, band_floats):
    """`net.window_decoder` in bands, with the mask given (error > 0.5 / s thresholded by
    the caller) instead of the error and s.

    Args:
      centre: three padded feature levels [1, h_l, w_l, C_l] of the centre frame (numpy;
        the first may be a `Level1Rows`).
      neighbours: for each of the four neighbours (T-2, T-1, T+1, T+2), its three levels
        (likewise).
      flows: four centre -> neighbour flows [1, H, W, 2]; masks: four {0, 1} [1, H, W, 1].
    Returns numpy [1, H, W, out_channels] (padded size).
    """
    dec, cfg = net.window_decoder, net.get_config()
    x = _down(dec.get_layer("down3_4"), dec.get_layer("down3_4_unshuffle"), centre[2],
              band_floats)
    x = run_blocks(_level_blocks(dec, "latent", cfg["Middle_blocks"]), x, band_floats)
    for lv, nblocks in ((3, cfg["Dec_blocks"][0]), (2, cfg["Dec_blocks"][1]),
                        (1, cfg["Dec_blocks"][2])):
        up, shuffle = dec.get_layer(f"up{lv + 1}_{lv}"), dec.get_layer(f"up{lv + 1}_{lv}_shuffle")
        reduce = dec.get_layer(f"reduce_chan_level{lv}")
        skip = centre[lv - 1]

        def merge(band, lo, hi, up=up, shuffle=shuffle, reduce=reduce, skip=skip):
            return reduce(tf.concat([shuffle(up(band)), skip[:, lo:hi]], axis=-1))

        x = map_bands(merge, x, skip.shape[1], band_floats, halo=1, scale=Fraction(1, 2))
        x = run_blocks(_level_blocks(dec, f"decoder_level{lv}", nblocks), x, band_floats)
        x = align_and_fuse(dec.get_layer(f"fgma_l{lv}"), dec.get_layer(f"hdr_fusion_l{lv}"),
                           x, [nb[lv - 1] for nb in neighbours], flows, masks, band_floats)
    x = run_blocks(_level_blocks(dec, "refinement", cfg["num_refinement_blocks"]), x,
                   band_floats)
    ending = dec.get_layer("ending")
    return map_bands(lambda band, lo, hi: ending(band), x, x.shape[1], band_floats, halo=1)
