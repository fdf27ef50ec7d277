"""Datasets: scene readers (Kalantari17 / SCTNet layout, bracket folders), video readers
(VideoSequence: deephdrvideo, vimeo, video_folder, video_sources), synthetic data
(synthesize, synthesize_video), the TFRecord schema and writer, and the tf.data pipelines
(pipeline for images, video_pipeline for clips).

Submodules are imported on use (`from hdrkeras.data import pipeline`) so that reading a
scene does not pay for importing TensorFlow.
"""
