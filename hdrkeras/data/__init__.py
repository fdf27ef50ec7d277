"""Datasets: scene readers (Kalantari17 / SCTNet layout, bracket folders), synthetic data,
the TFRecord schema and writer, and the tf.data pipelines.

Submodules are imported on use (`from hdrkeras.data import pipeline`) so that reading a
scene does not pay for importing TensorFlow.
"""
