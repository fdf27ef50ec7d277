"""Streaming video inference: per-frame (and per-frame-pair) work computed once per sequence.

A video method's output for frame c depends on the window of frames `sequence.window(c,
size)` around it. Consecutive windows share all but one frame, so work that depends on one
frame only (linearisation, encoder features, luminance) or on one pair of frames (optical
flow) can be computed once and reused by every window that contains it. A model opts in by
implementing `StreamingModel`:

  frame_state(i, ldr_i, t_i)      -> per-frame state (any object), computed once per frame
  pairs(indices)                  -> frame pairs (i, j) the window needs (default: none)
  pair_state(i, j, s_i, s_j)      -> per-pair state, computed once per unordered pair
  window_output(indices, states, pair_states) -> [H,W,3] linear HDR of the centre frame

`stream(model, sequence)` walks a sequence and keeps only the states that the current and
the next window need, so memory is constant in the sequence length. `model.run_window(ldr,
exposures)` computes the same output from one window's frames with nothing cached (tiling,
tests): streaming and per-window results are identical, because a state depends only on
its own frame(s) and pairs are keyed by the unordered pair of frame indices.

A plain per-window model (callable (ldr [T,H,W,3], exposures [T]) -> [H,W,3]) fits as
`WindowModel`: its per-frame state is the frame itself.
"""

from hdrkeras.errors import ConfigError, DataError


def _frame_name(sequence, i):
    entry = sequence.frames[i]
    return entry if isinstance(entry, str) else str(i)


def _pair_key(i, j):
    return (i, j) if i <= j else (j, i)


class StreamingModel:
    """Protocol of a video model that can reuse per-frame work between windows.

    Attributes:
      name: label for messages and reports.
      num_frames: window size T (odd; the output belongs to the centre frame), or None
        when it depends on the sequence (see `window_size`).
      num_exposures: distinct exposure levels the model was built for (2 or 3), or None
        when it takes any.
    """

    name = "streaming"
    num_frames = 3
    num_exposures = None

    def window_size(self, sequence):
        """Frames per window for `sequence` (a hdrkeras.data VideoSequence)."""
        if self.num_frames is None:
            raise ConfigError(f"{self.name}: window size unknown")
        return int(self.num_frames)

    def check_sequence(self, sequence):
        """Raises DataError when the model cannot reconstruct `sequence` (wrong number of
        exposure levels, shorter than the window), before any work starts."""
        levels = len(sequence.levels)
        if self.num_exposures is not None and levels != self.num_exposures:
            raise DataError(
                f"sequence {sequence.name}{' (' + sequence.source + ')' if sequence.source else ''}"
                f": {levels} exposure levels ({', '.join(f'{t:g}' for t in sequence.levels)}) "
                f"but {self.name} is a {self.num_exposures}-exposure model")
        size = self.window_size(sequence)
        if len(sequence) < size:
            raise DataError(f"sequence {sequence.name}: {len(sequence)} frames, shorter than "
                            f"the {size}-frame window of {self.name}")

    def frame_state(self, i, ldr, exposure):
        """Per-frame work. ldr float32 [H,W,3] gamma LDR in [0,1]; exposure float (relative
        time). `i` is the frame's index in the sequence (or the window position in
        `run_window`): a state must not depend on it, only on the frame."""
        raise NotImplementedError

    def pairs(self, indices):
        """Frame pairs (i, j) the window with these frame indices (centre in the middle)
        needs a pair state for. Default: none."""
        return ()

    def pair_state(self, i, j, state_i, state_j):
        """Per-pair work for frames i < j (e.g. flows in both directions); must be
        symmetric in the sense that the same pair in either order gives the same result
        for each direction."""
        raise NotImplementedError

    def window_output(self, indices, states, pair_states):
        """Linear HDR float32 [H,W,3] of frame indices[len // 2].

        Args:
          indices: frame index of each window position (positions may repeat a frame at
            the sequence edges).
          states: dict frame index -> frame_state.
          pair_states: dict (i, j) with i <= j -> pair_state, for every pair of `pairs`.
        """
        raise NotImplementedError

    def memory_plan(self, height, width, max_memory_gb):
        """For a model that bounds its own memory on whole frames (banded or recomputed
        work, exact): adopts the budget (GB) and returns a line naming how it will stay
        within it for frames of this size, or None when it cannot (the caller tiles).
        Default: None, the model has no such plans."""
        return None

    def run_window(self, ldr, exposures):
        """One window, nothing cached: ldr float32 [T,H,W,3] gamma LDR, exposures [T] ->
        [H,W,3] linear HDR of the centre frame. Each window position is its own frame."""
        indices = list(range(len(ldr)))
        states = {i: self.frame_state(i, ldr[i], float(exposures[i])) for i in indices}
        pair_states = {}
        for i, j in self.pairs(indices):
            key = _pair_key(i, j)
            if key not in pair_states:
                pair_states[key] = self.pair_state(key[0], key[1], states[key[0]], states[key[1]])
        return self.window_output(indices, states, pair_states)

    def batch_fn(self, ldr, exposures):
        """The per-window predictor signature of hdrkeras.inference (for run_tiled):
        ldr [B,T,h,w,3], exposures [B,T] -> [B,h,w,3]."""
        import numpy as np

        return np.stack([self.run_window(l, t) for l, t in zip(ldr, exposures)])


class WindowModel(StreamingModel):
    """A per-window model as a StreamingModel: the per-frame state is the frame itself.

    Args:
      fn: callable (ldr float32 [B,T,H,W,3] gamma LDR in [0,1], exposures [B,T]) ->
        linear HDR [B,H,W,3], e.g. a hdrkeras.inference.Predictor.
      num_frames: int. Window size T.
      name: str. Label. Defaults to the predictor's name.
      num_exposures: int or None. Exposure levels the model was trained for.
      extra: dict name -> float of scalar extra inputs the model declares (e.g. DeAltHDR's
        `sensitivity`), passed to `fn` as float32 [B] keyword arguments. Defaults to none.
    """

    def __init__(self, fn, num_frames, name=None, num_exposures=None, extra=None):
        if not isinstance(num_frames, int) or num_frames < 1 or num_frames % 2 == 0:
            raise ConfigError(f"a video window model takes an odd number of frames, got "
                              f"{num_frames!r}")
        self.fn = fn
        self.num_frames = num_frames
        self.name = name or getattr(fn, "name", "model")
        self.num_exposures = num_exposures
        self.extra = dict(extra or {})

    def _extra(self, batch):
        import numpy as np

        return {k: np.full((batch,), v, np.float32) for k, v in self.extra.items()}

    def frame_state(self, i, ldr, exposure):
        return ldr, exposure

    def window_output(self, indices, states, pair_states):
        import numpy as np

        ldr = np.stack([states[i][0] for i in indices])[None]
        t = np.asarray([[states[i][1] for i in indices]], np.float32)
        return np.asarray(self.fn(ldr, t, **self._extra(1)), np.float32)[0]

    def batch_fn(self, ldr, exposures):
        return self.fn(ldr, exposures, **self._extra(len(ldr)))


def stream(model, sequence, centres=None):
    """Yields (centre, hdr [H,W,3]) for each output frame, reusing cached states.

    Args:
      model: StreamingModel.
      sequence: hdrkeras.data VideoSequence (frames read on demand).
      centres: increasing frame indices to reconstruct; None = all frames. Frames not
        listed (e.g. already written by an earlier run) cost nothing beyond the states
        the listed windows need.

    Windows follow VideoSequence.window's edge policy. Frame states live only while the
    current or the next window needs them, pair states while one of the next T windows
    does: at most about 2T frame states and T^2 pairs.
    """
    model.check_sequence(sequence)
    size = model.window_size(sequence)
    centres = list(range(len(sequence)) if centres is None else centres)
    states, pair_states = {}, {}
    shape = None
    for k, centre in enumerate(centres):
        indices = sequence.window(centre, size)
        for i in indices:
            if i not in states:
                ldr = sequence.ldr(i)
                if shape is None:
                    shape, first = ldr.shape, i
                elif ldr.shape != shape:
                    raise DataError(
                        f"sequence {sequence.name}: frame {_frame_name(sequence, i)} is "
                        f"{ldr.shape[1]}x{ldr.shape[0]}, frame {_frame_name(sequence, first)} "
                        f"is {shape[1]}x{shape[0]}")
                states[i] = model.frame_state(i, ldr, float(sequence.exposures[i]))
        needed_pairs = {_pair_key(i, j) for i, j in model.pairs(indices)}
        for key in sorted(needed_pairs):
            if key not in pair_states:
                pair_states[key] = model.pair_state(key[0], key[1], states[key[0]],
                                                    states[key[1]])
        hdr = model.window_output(indices, {i: states[i] for i in indices},
                                  {key: pair_states[key] for key in needed_pairs})
        # Keep the frames the next window needs and the pairs any of the next `size`
        # windows needs (a pair (c, c+2) serves windows c and c+2, not c+1); drop the rest
        # before handing out the result.
        upcoming = [sequence.window(c, size) for c in centres[k + 1:k + 1 + size]]
        keep = set(upcoming[0]) if upcoming else set()
        keep_pairs = {_pair_key(i, j) for w in upcoming for i, j in model.pairs(w)}
        for i in list(states):
            if i not in keep:
                del states[i]
        for key in list(pair_states):
            if key not in keep_pairs:
                del pair_states[key]
        yield centre, hdr
