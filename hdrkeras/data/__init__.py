"""Datasets, split by job:

  scenes, kalantari, bracket   one exposure stack on disk; dataset roots; bracket folders
  sources                      which of records / dataset root / bracket folder a path is
  schema                       record keys (versioned) and example encoding / decoding
  tfrecord                     TFRecord framing: CRCs, scanning, verification, damaged records
  records                      scenes -> sharded records + manifest.json (the writer)
  pipeline                     tf.data readers: training crops (with their parser), whole scenes
  synthesize, procedural       synthetic data; selfhdr_targets, alignment: SelfHDR's targets

Submodules are imported on use (`from hdrkeras.data import pipeline`) so that reading a
scene does not pay for importing TensorFlow.
"""
