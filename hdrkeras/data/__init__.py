"""Datasets, split by job:

  scenes, kalantari, bracket   one exposure stack on disk; dataset roots; bracket folders
  sources                      which of records / dataset root / bracket folder a path is
  schema                       record keys (versioned) and example encoding / decoding
  tfrecord                     TFRecord framing: CRCs, scanning, verification, damaged records
  records                      scenes -> sharded records + manifest.json (the writer)
  pipeline                     tf.data readers: training crops (with their parser), whole scenes
  synthesize, procedural       synthetic data; selfhdr_targets, alignment: SelfHDR's targets
  video_sequence               VideoSequence: one alternating-exposure video (frames on demand)
  deephdrvideo, vimeo,         video dataset layouts -> VideoSequences; video_sources picks
    video_folder, video_sources  the reader from a folder's marker files
  synthesize_video             synthetic HDR video (and DeAltHDR's degraded clips)
  video_pipeline               tf.data reader of clip records: aligned crops, windows

Submodules are imported on use (`from hdrkeras.data import pipeline`) so that reading a
scene does not pay for importing TensorFlow.
"""
